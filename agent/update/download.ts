import { createHash } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Clock } from '../../common/clock.js';

export interface DownloadOptions {
  url: string;
  /** The size the signed manifest names: more is an error (and stops the download at once). */
  expectedBytes: number;
  /** Paced to at most this many bytes per second (a congested commune link); 0: unpaced. */
  bytesPerSecond: number;
  /** No byte for this long: give up. */
  idleTimeoutMs: number;
  clock: Clock;
  signal?: AbortSignal | undefined;
}

export interface Downloaded {
  data: Buffer;
  sha256: string;
}

/**
 * Download a release package into memory (a few MB), paced to `bytesPerSecond` by pausing
 * the socket (TCP flow control then slows the sender: the link is not flooded, as with
 * curl's `--limit-rate`), bounded to `expectedBytes`, hashed as it arrives.
 */
export function download(o: DownloadOptions): Promise<Downloaded> {
  return new Promise((resolve, reject) => {
    const url = new URL(o.url);
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method: 'GET', signal: o.signal, headers: { accept: 'application/octet-stream' } });
    let idle = o.clock.setTimeout(() => req.destroy(new Error('download stalled')), o.idleTimeoutMs);
    const fail = (err: Error) => {
      o.clock.clear(idle);
      req.destroy();
      reject(err);
    };
    req.on('error', fail);
    req.on('response', (res: IncomingMessage) => {
      if (res.statusCode !== 200) {
        res.resume();
        fail(new Error(`HTTP ${res.statusCode} from ${url.pathname}`));
        return;
      }
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > o.expectedBytes) {
        fail(new Error(`the package is ${declared} bytes, the signed manifest says ${o.expectedBytes}`));
        return;
      }
      const h = createHash('sha256');
      const chunks: Buffer[] = [];
      let got = 0;
      const started = o.clock.monotonic();
      res.on('data', (chunk: Buffer) => {
        got += chunk.length;
        if (got > o.expectedBytes) {
          fail(new Error(`the package is larger than the ${o.expectedBytes} bytes of its signed manifest`));
          return;
        }
        h.update(chunk);
        chunks.push(chunk);
        o.clock.clear(idle);
        idle = o.clock.setTimeout(() => req.destroy(new Error('download stalled')), o.idleTimeoutMs);
        if (o.bytesPerSecond > 0) {
          const ahead = (got / o.bytesPerSecond) * 1000 - (o.clock.monotonic() - started);
          if (ahead > 5) {
            res.pause();
            o.clock.setTimeout(() => res.resume(), ahead);
          }
        }
      });
      res.on('error', fail);
      res.on('end', () => {
        o.clock.clear(idle);
        if (got !== o.expectedBytes) return reject(new Error(`got ${got} bytes, the signed manifest says ${o.expectedBytes}`));
        resolve({ data: Buffer.concat(chunks), sha256: h.digest('hex') });
      });
    });
    req.end();
  });
}
