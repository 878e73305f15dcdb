/**
 * InfluxWriter against a scripted fake HTTP server on loopback (node:http): classification
 * (5xx / 429 Retry-After / 400 / network), backoff, batching, gzip, spool replay after a
 * restart, the memory bound and the spool bound.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../../common/clock.js';
import { silentLogger } from '../../../../common/log.js';
import { InfluxWriter, type InfluxWriterOptions } from '../../../../collector/influx/influx-writer.js';
import { MetricsRegistry } from '../../../../common/metrics-registry.js';
import { classifyWriteError } from '../../../../collector/influx/write-transport.js';
import { HttpError } from '@influxdata/influxdb-client';
import { waitFor } from '../../../helpers/wait.js';

interface Req {
  at: number;
  url: string;
  lines: string[];
  gzip: boolean;
  auth: string | undefined;
}

type Answer = { status: number; headers?: Record<string, string>; body?: string } | 'hang' | 'destroy';

class FakeInflux {
  server: Server;
  requests: Req[] = [];
  script: Answer[] = [];
  fallback: Answer = { status: 204 };
  port = 0;
  private hanging: ServerResponse[] = [];

  constructor() {
    this.server = createServer((req, res) => this.handle(req, res));
  }
  async listen(port = 0): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  /** Every line the server accepted (204), in order. */
  get accepted(): string[] {
    return this.requests.filter((r) => (r as Req & { ok?: boolean }).ok).flatMap((r) => r.lines);
  }
  async close(): Promise<void> {
    for (const r of this.hanging) r.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      const gzip = req.headers['content-encoding'] === 'gzip';
      if (gzip) body = gunzipSync(body);
      const r: Req & { ok?: boolean } = { at: performance.now(), url: req.url ?? '', lines: body.toString('utf8').split('\n'), gzip, auth: req.headers.authorization };
      this.requests.push(r);
      const a = this.script.shift() ?? this.fallback;
      if (a === 'hang') {
        this.hanging.push(res);
        return;
      }
      if (a === 'destroy') {
        req.socket.destroy();
        return;
      }
      r.ok = a.status >= 200 && a.status < 300;
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
      res.end(a.body ?? (a.status >= 300 ? JSON.stringify({ code: 'invalid', message: 'scripted' }) : undefined));
    });
  }
}

let dir: string;
let fake: FakeInflux;
const writers: InfluxWriter[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'canh-influx-'));
  fake = new FakeInflux();
  await fake.listen();
});

afterEach(async () => {
  for (const w of writers.splice(0)) await w.stop().catch(() => undefined);
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

function writer(over: Partial<InfluxWriterOptions> = {}, metrics = new MetricsRegistry()): InfluxWriter {
  const w = new InfluxWriter(
    {
      url: fake.url,
      org: 'o',
      bucket: 'b',
      token: 'secret-token',
      batchLines: 5,
      flushMs: 20,
      spoolDir: join(dir, 'spool'),
      spoolMaxBytes: 1024 * 1024,
      timeoutMs: 2000,
      maxQueueLines: 1000,
      resendWindowMs: 0,
      retry: { minDelayMs: 40, maxDelayMs: 400, factor: 2, jitterMs: 0 },
      drainOnStopMs: 500,
      ...over,
    },
    { clock: systemClock, log: silentLogger(), metrics, random: () => 0 },
  );
  writers.push(w);
  return w;
}

function points(from: number, n: number, host = 'h'): string[] {
  return Array.from({ length: n }, (_, i) => `cpu,host=${host},site=s usage_pct=${from + i} ${1795500000000 + (from + i) * 1000}`);
}

describe('InfluxWriter: batching and the HTTP write', () => {
  it('batches by size and by time, posts to /api/v2/write with precision=ms and the token', async () => {
    const w = writer();
    await w.start();
    w.write(points(0, 12));
    await waitFor(() => fake.accepted.length === 12 && w.stats().written === 12, { timeoutMs: 5000, what: '12 lines' });
    expect(fake.requests.map((r) => r.lines.length)).toEqual([5, 5, 2]);
    expect(fake.requests[0]!.url).toBe('/api/v2/write?org=o&bucket=b&precision=ms');
    expect(fake.requests[0]!.auth).toBe('Token secret-token');
    expect(fake.accepted).toEqual(points(0, 12));
    expect(w.stats().written).toBe(12);
  });

  it('gzips bodies above the threshold', async () => {
    const w = writer({ batchLines: 100, gzipThreshold: 200 });
    await w.start();
    w.write(points(0, 50));
    await waitFor(() => fake.accepted.length === 50);
    expect(fake.requests[0]!.gzip).toBe(true);
  });

  it('write() never throws and returns at once, even before start and after stop', async () => {
    const w = writer();
    expect(() => w.write(points(0, 3))).not.toThrow();
    await w.start();
    await waitFor(() => fake.accepted.length === 3);
    await w.stop();
    expect(() => w.write(points(3, 2))).not.toThrow();
    expect(w.stats().dropped.stopped).toBe(2);
  });
});

describe('InfluxWriter: retries and classification', () => {
  it('retries 5xx with exponential backoff, in order, and writes each batch once', async () => {
    fake.script = [{ status: 500 }, { status: 502 }, { status: 503 }];
    const w = writer();
    await w.start();
    w.write(points(0, 10));
    await waitFor(() => fake.accepted.length === 10 && w.stats().written === 10);
    // The first batch was tried 4 times: delays 40, 80, 160 ms (no jitter).
    const firstTries = fake.requests.filter((r) => r.lines[0] === points(0, 1)[0]);
    expect(firstTries).toHaveLength(4);
    const gaps = firstTries.slice(1).map((r, i) => r.at - firstTries[i]!.at);
    expect(gaps[0]).toBeGreaterThanOrEqual(35);
    expect(gaps[1]).toBeGreaterThanOrEqual(75);
    expect(gaps[2]).toBeGreaterThanOrEqual(155);
    expect(fake.accepted).toEqual(points(0, 10));
    expect(w.stats().retries).toBe(3);
    expect(w.stats().written).toBe(10);
  });

  it('honours Retry-After (seconds) on 429', async () => {
    fake.script = [{ status: 429, headers: { 'retry-after': '1' } }];
    const w = writer();
    await w.start();
    w.write(points(0, 5));
    await waitFor(() => fake.accepted.length === 5);
    expect(fake.requests[1]!.at - fake.requests[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('drops a batch refused with 400 (bad data), counts and moves on', async () => {
    fake.script = [{ status: 400, body: '{"code":"invalid","message":"unable to parse"}' }];
    const w = writer();
    await w.start();
    w.write(points(0, 10));
    await waitFor(() => fake.accepted.length === 5);
    await new Promise((r) => setTimeout(r, 100));
    expect(fake.requests).toHaveLength(2);
    expect(fake.accepted).toEqual(points(5, 5));
    expect(w.stats().dropped.rejected).toBe(5);
    expect(w.stats().retries).toBe(0);
  });

  it('retries network errors (connection reset, refused) until the server is back', async () => {
    fake.script = ['destroy', 'destroy'];
    const w = writer();
    await w.start();
    w.write(points(0, 5));
    await waitFor(() => fake.accepted.length === 5);
    expect(w.stats().retries).toBe(2);
    // Refused: the server is gone, then comes back on the same port.
    const port = fake.port;
    await fake.close();
    w.write(points(5, 5));
    await waitFor(() => w.stats().retries >= 4, { timeoutMs: 5000, what: 'retries while refused' });
    fake = new FakeInflux();
    await fake.listen(port);
    await waitFor(() => fake.accepted.length >= 5);
    expect(fake.accepted).toEqual(points(5, 5));
  });

  it('times out a hanging request and retries it', async () => {
    fake.script = ['hang'];
    const w = writer({ timeoutMs: 200 });
    await w.start();
    w.write(points(0, 5));
    await waitFor(() => fake.accepted.length === 5);
    expect(w.stats().retries).toBe(1);
  });

  it('classifies errors: 5xx/429/401/404/network retry, 400/413/422 drop', () => {
    const http = (code: number, ra?: string) => new HttpError(code, 'x', '', ra);
    expect(classifyWriteError(http(500))).toMatchObject({ retry: true, connectionLost: false });
    expect(classifyWriteError(http(429, '7'))).toMatchObject({ retry: true, delayMs: 7000 });
    expect(classifyWriteError(http(401))).toMatchObject({ retry: true });
    expect(classifyWriteError(http(404))).toMatchObject({ retry: true });
    expect(classifyWriteError(http(400))).toMatchObject({ retry: false });
    expect(classifyWriteError(http(413))).toMatchObject({ retry: false });
    expect(classifyWriteError(http(422))).toMatchObject({ retry: false });
    expect(classifyWriteError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toMatchObject({ retry: true, connectionLost: true });
  });

  it('resends the batches of the resend window when the connection is lost afterwards', async () => {
    const w = writer({ resendWindowMs: 60_000 });
    await w.start();
    w.write(points(0, 5));
    await waitFor(() => fake.accepted.length === 5);
    fake.script = ['destroy'];
    w.write(points(5, 5));
    await waitFor(() => fake.accepted.length === 15, { timeoutMs: 5000, what: 'resend + new batch' });
    // The first batch again (the server may have lost it), then the new one.
    expect(fake.accepted).toEqual([...points(0, 5), ...points(0, 5), ...points(5, 5)]);
    expect(w.stats().resent).toBe(5);
  });
});

describe('InfluxWriter: spool', () => {
  it('replays unsent batches in order after a restart, and nothing else', async () => {
    fake.fallback = { status: 503 };
    const w1 = writer();
    await w1.start();
    w1.write(points(0, 23));
    await w1.flush();
    await waitFor(() => fake.requests.length >= 1);
    await w1.stop();
    expect(w1.stats().backlogPoints).toBe(23);
    fake.fallback = { status: 204 };
    fake.requests = [];
    const w2 = writer();
    await w2.start();
    await waitFor(() => fake.accepted.length === 23);
    expect(fake.accepted).toEqual(points(0, 23));
    await w2.stop();
    // A third start has nothing left to send.
    fake.requests = [];
    const w3 = writer();
    await w3.start();
    await new Promise((r) => setTimeout(r, 200));
    expect(fake.requests).toHaveLength(0);
  });

  it('bounds memory: beyond maxQueueLines batches wait in the spool only, and all arrive', async () => {
    fake.fallback = 'hang';
    const w = writer({ maxQueueLines: 20, timeoutMs: 300 });
    await w.start();
    let maxQueue = 0;
    for (let i = 0; i < 40; i++) {
      w.write(points(i * 5, 5));
      await w.flush();
      maxQueue = Math.max(maxQueue, w.stats().queuePoints);
    }
    const s = w.stats();
    expect(maxQueue).toBeLessThanOrEqual(20);
    expect(s.spooledOnly).toBeGreaterThanOrEqual(180);
    fake.fallback = { status: 204 };
    await waitFor(() => fake.accepted.length === 200, { what: '200 lines' });
    expect(fake.accepted).toEqual(points(0, 200));
  });

  it('bounds the spool: the oldest unsent points are dropped, counted, the newest arrive', async () => {
    fake.fallback = { status: 503 };
    const metrics = new MetricsRegistry();
    const w = writer({ spoolMaxBytes: 32 * 1024, batchLines: 20 }, metrics);
    await w.start();
    for (let i = 0; i < 100; i++) {
      w.write(points(i * 20, 20));
      await w.flush();
    }
    const dropped = w.stats().dropped.spool_full;
    expect(dropped).toBeGreaterThan(0);
    expect(w.stats().spoolBytes).toBeLessThanOrEqual(32 * 1024);
    expect(metrics.render()).toMatch(/canh_influx_points_dropped_total\{reason="spool_full"\} [1-9]/);
    fake.fallback = { status: 204 };
    await waitFor(() => w.stats().backlogPoints === 0, { what: 'drained' });
    const got = fake.accepted;
    expect(got.length + dropped).toBe(2000);
    // What arrived is the newest, contiguous, in order.
    expect(got).toEqual(points(2000 - got.length, got.length));
  });
});
