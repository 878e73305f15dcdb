import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as netConnect } from 'node:net';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collector } from '../../collector/collector.js';
import { CollectorConfigSchema } from '../../collector/config.js';
import { silentLogger } from '../../common/log.js';
import { ackCovers, ackTopic, decodeAck } from '../../contract/ack.js';
import { topicFor } from '../../contract/topics.js';

const dir = mkdtempSync(join(tmpdir(), 'canh-tls-'));
function makeCert(name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', key, '-out', cert],
    { stdio: 'ignore' },
  );
  return { cert, key };
}

describe('embedded broker over TLS', () => {
  let collector: Collector;
  let server: { cert: string; key: string };
  let cred: { username: string; password: string };

  beforeAll(async () => {
    server = makeCert('server');
    const config = CollectorConfigSchema.parse({
      dataDir: join(dir, 'data'),
      broker: { embedded: { host: '127.0.0.1', port: 0, tls: { port: 0, certFile: server.cert, keyFile: server.key } } },
      http: { host: '127.0.0.1', port: 0 },
    });
    collector = await Collector.open(config, silentLogger());
    cred = collector.credentials.add({ site: 'xa-tls', host: 'pc-1', now: Date.now() });
    await collector.start();
  });
  afterAll(async () => {
    await collector?.stop();
  });

  it('accepts an agent that trusts the server certificate and stores its sample', async () => {
    const c = await mqtt.connectAsync(`mqtts://127.0.0.1:${collector.broker!.tlsPort()}`, {
      protocolVersion: 4,
      username: cred.username,
      password: cred.password,
      clientId: cred.username, // bound to the credential: <site>.<host>
      ca: readFileSync(server.cert),
      reconnectPeriod: 0,
    });
    const t = Date.now();
    // The collector's end-to-end ack (over TLS too) says the sample is stored.
    await c.subscribeAsync(ackTopic('xa-tls', 'pc-1'), { qos: 0 });
    const acked = new Promise<void>((resolve) => c.on('message', (_topic, payload) => decodeAck(payload) && ackCovers(decodeAck(payload)!, 'tls-boot-1', 0) && resolve()));
    await c.publishAsync(
      topicFor('xa-tls', 'pc-1', 'samples'),
      JSON.stringify({ v: 1, site: 'xa-tls', host: 'pc-1', boot: 'tls-boot-1', seq: 0, t, sent: t, interval: 15, metrics: {} }),
      { qos: 1 },
    );
    await acked;
    expect(collector.store.latestSample('xa-tls', 'pc-1')?.boot).toBe('tls-boot-1');
    await c.endAsync();
  });

  it('a client that does not trust the certificate cannot connect', async () => {
    const other = makeCert('other');
    await expect(
      mqtt.connectAsync(`mqtts://127.0.0.1:${collector.broker!.tlsPort()}`, {
        protocolVersion: 4,
        username: cred.username,
        password: cred.password,
        ca: readFileSync(other.cert),
        reconnectPeriod: 0,
        connectTimeout: 5000,
      }),
    ).rejects.toThrow(/self[- ]signed|certificate/i);
  });

  it('a TCP connection that never starts its TLS handshake is closed after the CONNECT timeout (issue 14), not held 120 s', async () => {
    const t0 = Date.now();
    const s = netConnect({ host: '127.0.0.1', port: collector.broker!.tlsPort()! });
    s.on('error', () => undefined);
    const closed = await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), 15_000);
      s.once('close', () => {
        clearTimeout(t);
        resolve(true);
      });
    });
    s.destroy();
    expect(closed).toBe(true);
    // connectTimeoutSeconds is 5 by default; generous bound.
    expect(Date.now() - t0).toBeLessThan(15_000);
  }, 20_000);
});
