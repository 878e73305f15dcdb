import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpProbeResult } from '../../contract/schemas.js';
import { createDeployment, type Deployment } from '../helpers/deployment.js';
import { waitFor } from '../helpers/wait.js';

/**
 * A real agent process probes local portal stand-ins (HTTP with a slow answer, HTTPS with a
 * certificate the agent trusts through NODE_EXTRA_CA_CERTS, and one answering 503), and
 * the real collector stores the `http` metric of its samples. Everything on loopback.
 */
describe('end to end: HTTP probes of the TTHC portals', () => {
  let dep: Deployment;
  let dir: string;
  const servers: http.Server[] = [];
  const requests: string[] = [];

  async function listen(server: http.Server): Promise<number> {
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return (server.address() as AddressInfo).port;
  }

  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    requests.push(`${req.method} ${req.url} ${req.headers.connection}`);
    if (req.url === '/bao-tri') {
      res.writeHead(503);
      res.end('Hệ thống đang bảo trì');
    } else if (req.url === '/cham') {
      setTimeout(() => res.end('<html>Cổng dịch vụ công</html>'), 300);
    } else res.end('<html>Một cửa</html>');
  };

  let httpPort: number;
  let httpsPort: number;
  let caFile: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'canh-e2e-http-'));
    caFile = join(dir, 'portal.crt');
    const key = join(dir, 'portal.key');
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '2',
          '-subj',
          '/CN=localhost',
          '-addext',
          'subjectAltName=DNS:localhost,IP:127.0.0.1',
          '-keyout',
          key,
          '-out',
          caFile,
        ],
        { stdio: 'ignore' },
      );
    } catch (err) {
      throw new Error(`openssl is needed to make the test certificate (apt-get install openssl): ${String(err)}`, { cause: err });
    }
    httpPort = await listen(http.createServer(handler));
    httpsPort = await listen(https.createServer({ cert: readFileSync(caFile), key: readFileSync(key) }, handler));
    dep = await createDeployment();
    await dep.startCollector();
  });

  afterAll(async () => {
    await dep?.stopAll();
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('samples carry one result per probe with its phases; the collector stores them', async () => {
    const probes = [
      { name: 'dichvucong', url: `http://127.0.0.1:${httpPort}/cham` },
      { name: 'motcua', url: `https://localhost:${httpsPort}/` },
      { name: 'bao-tri', url: `http://127.0.0.1:${httpPort}/bao-tri`, timeoutSeconds: 2 },
    ];
    const { agent } = await dep.startAgent('xa-cong', 'pc-probe', {
      env: { CANH_AGENT__HTTP__ENABLED: 'true', CANH_AGENT__HTTP__INTERVAL_SECONDS: '1', CANH_AGENT__HTTP__PROBES: JSON.stringify(probes), NODE_EXTRA_CA_CERTS: caFile },
    });

    const stored = (): HttpProbeResult[] =>
      dep
        .query<{ metrics: string }>(`SELECT metrics FROM samples WHERE host = 'pc-probe' ORDER BY t`)
        .flatMap((r) => (JSON.parse(r.metrics) as { http?: HttpProbeResult[] }).http ?? []);
    await waitFor(() => new Set(stored().map((r) => r.name)).size === 3 && stored().length >= 6, { timeoutMs: 30_000, what: 'two results of each probe stored' });

    const results = stored();
    const slow = results.filter((r) => r.name === 'dichvucong');
    for (const r of slow) {
      expect(r).toMatchObject({ ok: true, status: 200, dnsMs: null, tlsMs: null });
      expect(r.firstByteMs!).toBeGreaterThanOrEqual(299);
      expect(r.connectMs!).toBeLessThanOrEqual(r.firstByteMs!);
      expect(r.totalMs!).toBeGreaterThanOrEqual(r.firstByteMs!);
    }
    const secure = results.filter((r) => r.name === 'motcua');
    for (const r of secure) {
      // localhost is resolved by the OS (/etc/hosts); the certificate is verified against NODE_EXTRA_CA_CERTS.
      expect(r).toMatchObject({ ok: true, status: 200 });
      expect(r.error).toBeUndefined();
      const phases = [r.dnsMs, r.connectMs, r.tlsMs, r.firstByteMs, r.totalMs];
      for (let i = 1; i < phases.length; i++) expect(phases[i]!).toBeGreaterThanOrEqual(phases[i - 1]!);
    }
    for (const r of results.filter((x) => x.name === 'bao-tri')) expect(r).toMatchObject({ ok: false, status: 503, error: 'HTTP 503' });

    // One request per probe per interval (1 s), each on a fresh connection.
    const seconds = (Date.now() - Number(dep.query<{ t: number }>(`SELECT MIN(t) AS t FROM samples WHERE host = 'pc-probe'`)[0]!.t)) / 1000;
    const slowRequests = requests.filter((r) => r.startsWith('GET /cham'));
    expect(slowRequests.length).toBeLessThanOrEqual(Math.ceil(seconds) + 2);
    expect(new Set(requests.map((r) => r.split(' ')[2]))).toEqual(new Set(['close']));

    // No source_unavailable for http, and a clean, prompt stop with probes in flight.
    expect(dep.query(`SELECT 1 FROM events WHERE host = 'pc-probe' AND type = 'source_unavailable'`)).toHaveLength(0);
    const stopAt = Date.now();
    expect(await agent.stop()).toBe(0);
    expect(Date.now() - stopAt).toBeLessThan(5_000);
  });
});
