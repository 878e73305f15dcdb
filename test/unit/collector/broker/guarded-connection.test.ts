import { createServer, connect, type Socket } from 'node:net';
import { once } from 'node:events';
import mqttPacket from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { guardedConnection } from '../../../../collector/broker/mqtt-packet-guard.js';

const closers: Array<() => void> = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

/** A real loopback TCP pair: the server's socket (the broker's side) and the client's. */
async function pair(): Promise<{ server: Socket; client: Socket }> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  const client = connect(port, '127.0.0.1');
  const [server] = (await once(srv, 'connection')) as [Socket];
  await once(client, 'connect');
  closers.push(() => {
    client.destroy();
    server.destroy();
    srv.close();
  });
  return { server, client };
}

describe('guardedConnection writes', () => {
  it('a packet aedes writes in pieces (cork … uncork) reaches the socket as one writev, and arrives whole and in order', async () => {
    const { server, client } = await pair();
    const conn = guardedConnection(server, 1024 * 1024, () => {});
    conn.on('error', () => {}); // the teardown's close (aedes listens the same way)
    const calls: string[] = [];
    const s = server as unknown as { _writev: (...a: unknown[]) => unknown; _write: (...a: unknown[]) => unknown };
    const wv = s._writev.bind(server);
    const w = s._write.bind(server);
    s._writev = (...a) => (calls.push('writev'), wv(...a));
    s._write = (...a) => (calls.push('write'), w(...a));
    const packets = [1, 2, 3].map((i) => ({
      cmd: 'publish' as const,
      topic: `canh/v1/xa-1/pc-${i}/ack`,
      payload: Buffer.from(`{"v":1,"n":${i}}`),
      qos: 0 as const,
      retain: false,
      dup: false,
    }));
    const expected = Buffer.concat(packets.map((p) => mqttPacket.generate(p)));
    const got: Buffer[] = [];
    client.on('data', (b: Buffer) => got.push(b));
    // As aedes does: mqtt-packet's writeToStream corks the stream and uncorks it on the next tick.
    for (const p of packets) mqttPacket.writeToStream(p, conn);
    await new Promise((r) => setTimeout(r, 50));
    expect(Buffer.concat(got).equals(expected)).toBe(true);
    expect(calls).toEqual(['writev']);
  });
});
