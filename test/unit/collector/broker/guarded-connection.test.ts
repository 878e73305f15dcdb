import { createServer, connect, type Socket } from 'node:net';
import { once } from 'node:events';
import mqttPacket from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { guardSocket, PacketSizeGuard } from '../../../../collector/broker/mqtt-packet-guard.js';

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
  client.setNoDelay(true);
  closers.push(() => {
    client.destroy();
    server.destroy();
    srv.close();
  });
  return { server, client };
}

/** Read the socket as aedes does: `read()` on every 'readable'. */
function readLikeAedes(socket: Socket): Buffer[] {
  const got: Buffer[] = [];
  socket.on('readable', () => {
    const b = socket.read() as Buffer | null;
    if (b) got.push(b);
  });
  return got;
}

const publish = (i: number, bytes = 16) =>
  mqttPacket.generate({ cmd: 'publish', topic: `canh/v1/xa-1/pc-${i}/sample`, payload: Buffer.alloc(bytes, 0x61), qos: 1, messageId: i, retain: false, dup: false });

const until = async (cond: () => boolean, ms = 2000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('PacketSizeGuard', () => {
  it('follows packets split anywhere, refuses the first header over the limit and a remaining length of more than 4 bytes', () => {
    const stream = Buffer.concat([publish(1, 300), publish(2, 0), publish(3, 1000)]);
    const seen: number[] = [];
    const guard = new PacketSizeGuard(2000, (n) => seen.push(n));
    for (const b of stream) expect(guard.scan(Buffer.of(b))).toBeUndefined();
    expect(seen).toEqual([]);
    // A header announcing 4,000 bytes after a good packet, in one chunk with it.
    const big = mqttPacket.generate({ cmd: 'publish', topic: 't', payload: Buffer.alloc(4000), qos: 0, retain: false, dup: false });
    const err = guard.scan(Buffer.concat([publish(4, 10), big.subarray(0, 3)]));
    expect(err?.message).toMatch(/exceeds the limit of 2000/);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeGreaterThan(4000);
    expect(new PacketSizeGuard(1e9, () => {}).scan(Buffer.of(0x30, 0x80, 0x80, 0x80, 0x80))?.message).toMatch(/malformed/);
  });
});

describe('guardSocket', () => {
  it('hands a reader every byte unchanged, in order, from the socket itself', async () => {
    const { server, client } = await pair();
    const same = guardSocket(server, 64 * 1024, () => {});
    expect(same).toBe(server);
    const got = readLikeAedes(server);
    const sent = Buffer.concat(Array.from({ length: 200 }, (_, i) => publish(i, 10 + ((i * 37) % 900))));
    // In pieces that cut headers and bodies anywhere.
    for (let o = 0; o < sent.length; o += 777) client.write(sent.subarray(o, o + 777));
    await until(() => Buffer.concat(got).length >= sent.length);
    expect(Buffer.concat(got).equals(sent)).toBe(true);
    expect(server.destroyed).toBe(false);
  });

  it('a header over the limit destroys the socket before its chunk reaches the reader, and reports the size once', async () => {
    const { server, client } = await pair();
    const announced: number[] = [];
    guardSocket(server, 1024, (n) => announced.push(n));
    const got = readLikeAedes(server);
    const good = publish(1, 100);
    client.write(good);
    await until(() => Buffer.concat(got).length >= good.length);
    client.write(
      Buffer.concat([publish(2, 50), mqttPacket.generate({ cmd: 'publish', topic: 't', payload: Buffer.alloc(5000), qos: 0, retain: false, dup: false }).subarray(0, 4)]),
    );
    await until(() => server.destroyed);
    expect(Buffer.concat(got).equals(good)).toBe(true);
    expect(announced).toHaveLength(1);
    expect(announced[0]).toBeGreaterThan(5000);
  });

  it('a flowing reader (data events) goes through the guard too', async () => {
    const { server, client } = await pair();
    const announced: number[] = [];
    guardSocket(server, 1024, (n) => announced.push(n));
    const got: Buffer[] = [];
    server.on('data', (b: Buffer) => got.push(b));
    client.write(publish(1, 2000));
    await until(() => server.destroyed);
    expect(got).toEqual([]);
    expect(announced).toHaveLength(1);
  });

  it('a packet aedes writes in pieces (cork … uncork) reaches the socket as one writev, and arrives whole and in order', async () => {
    const { server, client } = await pair();
    const conn = guardSocket(server, 1024 * 1024, () => {});
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
    await until(() => Buffer.concat(got).length >= expected.length);
    expect(Buffer.concat(got).equals(expected)).toBe(true);
    expect(calls).toEqual(['writev']);
  });
});
