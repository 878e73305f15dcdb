import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeHttpTimer, probeErrorCode, type HttpProbeTarget, type LookupFunction } from '../../../../agent/platform/http-timing.js';
import { HttpProbeResult } from '../../../../contract/schemas.js';

/**
 * The real timer against real HTTP and HTTPS servers on loopback. A name `portal.test`
 * resolves to 127.0.0.1 through an injected lookup (the OS resolver is never asked, so
 * nothing leaves the machine), and the test certificate is made by openssl as in
 * test/integration/embedded-broker-tls.test.ts.
 */

let dir: string;
let good: { cert: string; key: string };
let wrongName: { cert: string; key: string };
const servers: Array<http.Server | net.Server> = [];
const sockets = new Set<net.Socket>();

function makeCert(name: string, san: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=portal.test', '-addext', `subjectAltName=${san}`, '-keyout', key, '-out', cert],
      { stdio: 'ignore' },
    );
  } catch (err) {
    throw new Error(`openssl is needed to make the test certificates (apt-get install openssl): ${String(err)}`, { cause: err });
  }
  return { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') };
}

/** Resolves every name to 127.0.0.1 after `delayMs`, except names under `.invalid` (ENOTFOUND, as getaddrinfo says it). */
function loopbackLookup(delayMs = 0): LookupFunction {
  return (hostname, options, callback) => {
    setTimeout(() => {
      if (hostname.endsWith('.invalid')) {
        const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
        callback(err, '', 4);
        return;
      }
      if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
      else callback(null, '127.0.0.1', 4);
    }, delayMs);
  };
}

async function listen<S extends http.Server | net.Server>(server: S): Promise<number> {
  servers.push(server);
  server.on('connection', (sock: net.Socket) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

const routes: Record<string, Handler> = {
  '/ok': (_req, res) => res.end('xin chào'),
  '/redirect': (_req, res) => {
    res.writeHead(302, { location: '/ok' });
    res.end();
  },
  '/unavailable': (_req, res) => {
    res.writeHead(503);
    res.end('bảo trì');
  },
  '/missing': (_req, res) => {
    res.writeHead(404);
    res.end();
  },
  '/slow': (_req, res) => {
    setTimeout(() => res.end('late'), 300);
  },
  '/endless': (_req, res) => {
    // 8 KiB every 10 ms, forever: only a bounded read ends this probe before its timeout.
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    const chunk = Buffer.alloc(8192, 0x61);
    const t = setInterval(() => res.write(chunk), 10);
    res.on('close', () => {
      clearInterval(t);
      endlessClosed = true;
    });
  },
};
let endlessClosed = false;
const seenMethods: string[] = [];
const seenConnection: string[] = [];

const handler: Handler = (req, res) => {
  seenMethods.push(req.method ?? '');
  seenConnection.push(String(req.headers.connection));
  (routes[req.url ?? ''] ?? routes['/ok']!)(req, res);
};

let httpPort: number;
let httpsPort: number;
let wrongNamePort: number;
let silentPort: number;
let closedPort: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'canh-http-probe-'));
  good = makeCert('portal', 'DNS:portal.test,IP:127.0.0.1');
  wrongName = makeCert('other', 'DNS:other.test');
  httpPort = await listen(http.createServer(handler));
  httpsPort = await listen(https.createServer({ cert: good.cert, key: good.key }, handler));
  wrongNamePort = await listen(https.createServer({ cert: wrongName.cert, key: wrongName.key }, handler));
  // Accepts the TCP connection and never says a word.
  silentPort = await listen(net.createServer((s) => s.on('error', () => undefined).resume()));
  const tmp = net.createServer();
  closedPort = await listen(tmp);
  await new Promise<void>((r) => tmp.close(() => r()));
  servers.splice(servers.indexOf(tmp), 1);
});

afterAll(async () => {
  for (const sock of sockets) sock.destroy();
  for (const s of servers) {
    await new Promise<void>((r) => s.close(() => r()));
  }
  rmSync(dir, { recursive: true, force: true });
});

function target(url: string, over: Partial<HttpProbeTarget> = {}): HttpProbeTarget {
  return { name: 'portal', url, method: 'GET', timeoutSeconds: 5, maxBodyBytes: 16 * 1024, ...over };
}

const timer = (lookupDelayMs = 0) => new NodeHttpTimer({ lookup: loopbackLookup(lookupDelayMs), ca: good.cert });

function expectOrdered(r: HttpProbeResult, tls: boolean): void {
  const phases = [r.dnsMs, r.connectMs, ...(tls ? [r.tlsMs] : []), r.firstByteMs, r.totalMs];
  for (const p of phases) expect(p).toEqual(expect.any(Number));
  for (let i = 1; i < phases.length; i++) expect(phases[i]!, `phase ${i} after phase ${i - 1}`).toBeGreaterThanOrEqual(phases[i - 1]!);
  if (!tls) expect(r.tlsMs).toBeNull();
  // What the agent produces is valid on the wire.
  expect(HttpProbeResult.safeParse(r).error?.issues ?? []).toEqual([]);
}

describe('NodeHttpTimer (real servers on loopback)', () => {
  it('http: 200 with every phase present and in order, a fresh connection without keep-alive', async () => {
    const r = await timer(5).probe(target(`http://portal.test:${httpPort}/ok`));
    expect(r).toMatchObject({ name: 'portal', ok: true, status: 200 });
    expect(r.error).toBeUndefined();
    expectOrdered(r, false);
    // The lookup took at least its 5 ms.
    expect(r.dnsMs!).toBeGreaterThanOrEqual(4);
    expect(seenConnection.at(-1)).toBe('close');
  });

  it('https: the TLS phase sits between connect and first byte; the certificate is verified', async () => {
    const r = await timer().probe(target(`https://portal.test:${httpsPort}/ok`));
    expect(r).toMatchObject({ ok: true, status: 200 });
    expectOrdered(r, true);
    expect(r.tlsMs!).toBeGreaterThan(r.connectMs!);
  });

  it('an IP literal has no DNS phase', async () => {
    const r = await timer().probe(target(`https://127.0.0.1:${httpsPort}/ok`));
    expect(r.ok).toBe(true);
    expect(r.dnsMs).toBeNull();
    expect(r.connectMs).toEqual(expect.any(Number));
  });

  it('a server that delays its answer by 300 ms is measured: firstByteMs >= 300, connect well before', async () => {
    const r = await timer().probe(target(`http://portal.test:${httpPort}/slow`));
    expect(r.ok).toBe(true);
    expect(r.firstByteMs!).toBeGreaterThanOrEqual(299);
    expect(r.connectMs!).toBeLessThan(200);
    expectOrdered(r, false);
  });

  it('5xx is a failed probe with `HTTP 503`; a redirect is ok (not followed); expectStatus overrides', async () => {
    const t = timer();
    const down = await t.probe(target(`http://portal.test:${httpPort}/unavailable`));
    expect(down).toMatchObject({ ok: false, status: 503, error: 'HTTP 503' });
    expect(down.totalMs).toEqual(expect.any(Number));
    expect(await t.probe(target(`http://portal.test:${httpPort}/redirect`))).toMatchObject({ ok: true, status: 302 });
    expect(await t.probe(target(`http://portal.test:${httpPort}/missing`))).toMatchObject({ ok: false, status: 404, error: 'HTTP 404' });
    expect(await t.probe(target(`http://portal.test:${httpPort}/missing`, { expectStatus: 404 }))).toMatchObject({ ok: true, status: 404 });
    expect(await t.probe(target(`http://portal.test:${httpPort}/ok`, { expectStatus: 204 }))).toMatchObject({ ok: false, status: 200, error: 'HTTP 200' });
  });

  it('maxBodyBytes 0: done at the headers (total = first byte)', async () => {
    const r = await timer().probe(target(`http://portal.test:${httpPort}/endless`, { maxBodyBytes: 0 }));
    expect(r).toMatchObject({ ok: true, status: 200 });
    expect(r.totalMs).toBe(r.firstByteMs);
  });

  it('HEAD sends HEAD', async () => {
    const r = await timer().probe(target(`http://portal.test:${httpPort}/ok`, { method: 'HEAD' }));
    expect(r).toMatchObject({ ok: true, status: 200 });
    expect(seenMethods.at(-1)).toBe('HEAD');
  });

  it('reads at most maxBodyBytes of an endless body, then closes the connection', async () => {
    endlessClosed = false;
    const started = performance.now();
    const r = await timer().probe(target(`http://portal.test:${httpPort}/endless`, { maxBodyBytes: 32 * 1024, timeoutSeconds: 5 }));
    expect(r).toMatchObject({ ok: true, status: 200 });
    expect(r.error).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(2000);
    expectOrdered(r, false);
    await expect.poll(() => endlessClosed, { timeout: 2000 }).toBe(true);
  });

  it('a server that never answers: ETIMEDOUT within the timeout, with the phases reached', async () => {
    const started = performance.now();
    const r = await timer().probe(target(`http://portal.test:${silentPort}/`, { timeoutSeconds: 0.4 }));
    const elapsed = performance.now() - started;
    expect(r).toMatchObject({ ok: false, status: null, firstByteMs: null, totalMs: null, error: 'ETIMEDOUT' });
    expect(r.connectMs).toEqual(expect.any(Number));
    expect(elapsed).toBeGreaterThanOrEqual(390);
    expect(elapsed).toBeLessThan(1500);
  });

  it('connection refused', async () => {
    const r = await timer().probe(target(`http://portal.test:${closedPort}/`));
    expect(r).toMatchObject({ ok: false, status: null, connectMs: null, error: 'ECONNREFUSED' });
  });

  it('a name that does not resolve: ENOTFOUND, no phase', async () => {
    const r = await timer().probe(target('https://cong.invalid/'));
    expect(r).toMatchObject({ ok: false, dnsMs: null, connectMs: null, error: 'ENOTFOUND' });
  });

  it('a certificate for another name fails the probe with a TLS error', async () => {
    const r = await new NodeHttpTimer({ lookup: loopbackLookup(), ca: wrongName.cert }).probe(target(`https://portal.test:${wrongNamePort}/ok`));
    expect(r).toMatchObject({ ok: false, status: null, tlsMs: null, error: 'TLS ERR_TLS_CERT_ALTNAME_INVALID' });
    expect(r.connectMs).toEqual(expect.any(Number));
  });

  it('an untrusted (self-signed) certificate fails the probe with a TLS error', async () => {
    const r = await new NodeHttpTimer({ lookup: loopbackLookup() }).probe(target(`https://portal.test:${httpsPort}/ok`));
    expect(r.ok).toBe(false);
    expect(r.error).toBe('TLS DEPTH_ZERO_SELF_SIGNED_CERT');
  });

  it('an abort ends a probe at once (agent stopping)', async () => {
    const ac = new AbortController();
    const p = timer().probe(target(`http://portal.test:${silentPort}/`, { timeoutSeconds: 30 }), ac.signal);
    setTimeout(() => ac.abort(), 50);
    const started = performance.now();
    expect(await p).toMatchObject({ ok: false, error: 'ABORTED' });
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('a bad URL is a failed probe, not a throw', async () => {
    expect((await timer().probe(target('ftp://portal.test/'))).error).toMatch(/bad URL: unsupported protocol ftp:/);
  });

  it('every probe above closed its connection: nothing is left open on the servers', async () => {
    await expect.poll(() => [...sockets].map((s) => s.localPort), { timeout: 2000 }).toEqual([]);
  });

  it('probeErrorCode: OpenSSL codes get a TLS prefix, plain errors their message', () => {
    expect(probeErrorCode(Object.assign(new Error('x'), { code: 'CERT_HAS_EXPIRED' }))).toBe('TLS CERT_HAS_EXPIRED');
    expect(probeErrorCode(Object.assign(new Error('x'), { code: 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE' }))).toBe('TLS ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE');
    expect(probeErrorCode(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe('ECONNRESET');
    expect(probeErrorCode(new Error('socket hang up'))).toBe('socket hang up');
  });
});
