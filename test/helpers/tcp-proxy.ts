/**
 * A TCP proxy on loopback between clients (agents) and a server (the broker), for
 * network-cut tests without root: `blackhole()` stops forwarding in both directions
 * without closing anything (as a cut cable or a dead router: no FIN, no RST), so only
 * keepalives notice; `restore()` drops the stalled connections and forwards again.
 * `silentClose` makes a client's disappearance invisible upstream (a PC losing power:
 * its connection is never closed, the broker finds out by keepalive).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  /** Stop forwarding (existing and new connections), closing nothing. */
  blackhole(): void;
  /** Destroy stalled connections and forward again. */
  restore(): void;
  /** When true, a client closing is not passed upstream (the upstream connection stays open, silent). */
  silentClose: boolean;
  /**
   * The next this-many connections reach the server, but the server's answer is cut: on
   * its first byte both sides are destroyed (a request that was processed and whose answer
   * was lost, e.g. an enrolment). Counted down at accept; `answersCut` counts the cuts.
   */
  cutAnswers: number;
  readonly answersCut: number;
  readonly connections: number;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  let holes = false;
  let answersCut = 0;
  const pairs = new Set<{ client: Socket; upstream: Socket | undefined }>();
  const server: Server = createServer((client) => {
    const pair: { client: Socket; upstream: Socket | undefined } = { client, upstream: undefined };
    pairs.add(pair);
    const drop = () => {
      pair.client.destroy();
      pair.upstream?.destroy();
      pairs.delete(pair);
    };
    client.on('error', () => {});
    if (holes) {
      // Accepted by the "network", never reaches the broker.
      client.on('data', () => {});
      client.on('close', () => pairs.delete(pair));
      return;
    }
    const up = connect(targetPort, targetHost);
    pair.upstream = up;
    if (self.cutAnswers > 0) {
      self.cutAnswers--;
      client.on('data', (d) => up.write(d));
      up.once('data', () => {
        answersCut++;
        drop();
      });
      up.on('error', () => {});
      client.on('close', drop);
      return;
    }
    up.setNoDelay(true);
    client.setNoDelay(true);
    up.on('error', () => {});
    client.on('data', (d) => {
      if (!holes) up.write(d);
    });
    up.on('data', (d) => {
      if (!holes) client.write(d);
    });
    client.on('close', () => {
      if (holes || self.silentClose) {
        pairs.delete(pair); // upstream stays open and silent until the server gives up on it
        up.on('close', () => up.destroy());
        return;
      }
      drop();
    });
    up.on('close', () => {
      if (holes) return; // a cut network carries no FIN
      drop();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  const self: TcpProxy = {
    port,
    silentClose: false,
    cutAnswers: 0,
    get answersCut() {
      return answersCut;
    },
    blackhole() {
      holes = true;
    },
    restore() {
      for (const p of [...pairs]) {
        p.client.destroy();
        p.upstream?.destroy();
      }
      pairs.clear();
      holes = false;
    },
    get connections() {
      return pairs.size;
    },
    async close() {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream?.destroy();
      }
      pairs.clear();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  return self;
}
