import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { IClientOptions, MqttClient as MqttClientType } from 'mqtt';
import clientModule from 'mqtt/lib/client';

// A CommonJS module: under Node's ESM interop its exports object is the default import.
const MqttClient = clientModule.default;

/**
 * Connect an MQTT client for the agent over plain TCP or TLS without loading mqtt.js'
 * connection registry, which pulls in WebSocket, SOCKS proxy and browser transports
 * the agent does not use (about 120 KB of code resident in every office PC's agent).
 * `ws://` / `wss://` URLs still work: they load the full mqtt.js on demand.
 */
export function connectMqtt(url: string, opts: IClientOptions): MqttClientType | Promise<MqttClientType> {
  const u = new URL(url);
  const protocol = u.protocol.replace(/:$/, '');
  if (protocol === 'ws' || protocol === 'wss') {
    return import('mqtt').then((m) => m.default.connect(url, opts));
  }
  const secure = protocol === 'mqtts' || protocol === 'ssl' || protocol === 'tls';
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = u.port ? Number(u.port) : secure ? 8883 : 1883;
  const merged: IClientOptions = { ...opts, host, port, protocol: secure ? 'mqtts' : 'mqtt' };
  const build = () =>
    secure
      ? tlsConnect({
          host,
          port,
          servername: /^[\d.]+$|:/.test(host) ? undefined : host,
          ...(opts.ca ? { ca: opts.ca as Buffer } : {}),
          ...(opts.cert ? { cert: opts.cert as Buffer } : {}),
          ...(opts.key ? { key: opts.key as Buffer } : {}),
          rejectUnauthorized: opts.rejectUnauthorized !== false,
        })
      : netConnect({ host, port });
  return new MqttClient(build as never, merged) as unknown as MqttClientType;
}
