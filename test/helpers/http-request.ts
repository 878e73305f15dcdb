/**
 * One real HTTP(S) request with what `fetch` cannot choose: the local (source) address, so
 * that a test can play several clients over loopback (127.0.0.2 is "another machine" to the
 * server's per-address limits), and the CA of a self-signed test certificate.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Json } from './json.js';

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON, or the text when it is not JSON. */
  body: Json;
}

export interface RawRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Source address (e.g. 127.0.0.2). */
  from?: string;
  /** PEM of the CA to trust (https). */
  ca?: string | Buffer;
  timeoutMs?: number;
}

export function rawRequest(url: string, opts: RawRequestOptions = {}): Promise<RawResponse> {
  const u = new URL(url);
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = String(Buffer.byteLength(opts.body));
  }
  const common = { method: opts.method ?? 'GET', headers, localAddress: opts.from, timeout: opts.timeoutMs ?? 10_000, agent: false as const };
  return new Promise((resolve, reject) => {
    const onResponse = (res: import('node:http').IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          /* not JSON */
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: body as Json });
      });
      res.on('error', reject);
    };
    const req = u.protocol === 'https:' ? httpsRequest(u, { ...common, ...(opts.ca ? { ca: opts.ca } : {}) }, onResponse) : httpRequest(u, common, onResponse);
    req.on('timeout', () => req.destroy(new Error(`request to ${url} timed out`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}
