/**
 * The agent's updater (agent/update/updater.ts) against a real HTTP server on loopback: the
 * checks before a download, the paced and bounded download, the SHA-256 check against the
 * signed manifest, staging in versions/<v>/ and the switch of current.json with a trial.
 * (The whole path with real agent processes: test/e2e/agent-update.test.ts.)
 */
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentConfigSchema } from '../../agent/config.js';
import { download } from '../../agent/update/download.js';
import { Updater, type UpdateReport } from '../../agent/update/updater.js';
import { systemClock } from '../../common/clock.js';
import { silentLogger } from '../../common/log.js';
import { manifestBytes, type ReleaseManifest } from '../../contract/agent-update.js';
import { CONTRACT_VERSION } from '../../contract/limits.js';
import { waitFor } from '../helpers/wait.js';

const keys = generateKeyPairSync('ed25519');
const PUBLIC = keys.publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64');
const work = mkdtempSync(join(tmpdir(), 'canh-updater-'));
let server: Server;
let base: string;
const files = new Map<string, Buffer>();
let served = 0;

function pack(version: string): Buffer {
  const stage = mkdtempSync(join(work, `stage-${version}-`));
  mkdirSync(join(stage, 'canh-agent-linux'));
  writeFileSync(join(stage, 'canh-agent-linux', 'canh-agent.mjs'), `export const v = ${JSON.stringify(version)};\n`);
  // Incompressible: the package is ~60 kB, over a small update.maxBytes.
  writeFileSync(join(stage, 'canh-agent-linux', 'pad.bin'), randomBytes(60_000));
  const out = join(work, `p-${version}.tar.gz`);
  execFileSync('tar', ['-czf', out, '-C', stage, 'canh-agent-linux']);
  return readFileSync(out);
}

function offer(seq: number, version: string, data: Buffer, change: Partial<ReleaseManifest> = {}, signWith = keys.privateKey): Buffer {
  const file = `canh-agent-${version}.tar.gz`;
  files.set(file, data);
  const manifest: ReleaseManifest = { name: 'canh-agent', version, platform: 'any', file, size: data.length, sha256: createHash('sha256').update(data).digest('hex'), ...change };
  const signature = sign(null, manifestBytes(manifest), signWith).toString('base64');
  return Buffer.from(JSON.stringify({ v: CONTRACT_VERSION, seq, manifest, signature, keyId: 'ab', path: `/install/releases/${version}/${file}`, until: null }));
}

function makeUpdater(update: Record<string, unknown>, freeBytes?: number) {
  const stateDir = mkdtempSync(join(work, 'state-'));
  const config = AgentConfigSchema.parse({ site: 's', host: 'h', stateDir, mqtt: { password: 'x' }, update: { url: base, minFreeBytes: 0, ...update } });
  const reports: UpdateReport[] = [];
  let restarts = 0;
  const u = new Updater({
    config,
    running: '1.0.0',
    clock: systemClock,
    log: silentLogger(),
    report: (r) => reports.push(r),
    restart: () => restarts++,
    ...(freeBytes !== undefined ? { freeBytes: () => Promise.resolve(freeBytes) } : {}),
  });
  return { u, stateDir, reports, restarts: () => restarts };
}

beforeAll(async () => {
  server = createServer((req, res) => {
    served++;
    const name = decodeURIComponent(req.url!.split('/').pop()!);
    const data = files.get(name);
    if (!data) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/gzip' });
    // In small writes, as a real server streams a file.
    let i = 0;
    const next = () => {
      if (i >= data.length) return void res.end();
      const ok = res.write(data.subarray(i, (i += 16 * 1024)));
      if (ok) setImmediate(next);
      else res.once('drain', next);
    };
    next();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address() as { port: number };
  base = `http://127.0.0.1:${a.port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('agent updater', () => {
  it('downloads, checks, stages beside the running version and switches current.json with a trial, then asks for a restart', async () => {
    const t = makeUpdater({ publicKey: PUBLIC });
    await t.u.start();
    t.u.onOffer(offer(1, '1.1.0', pack('1.1.0')));
    await waitFor(() => t.restarts() === 1, { timeoutMs: 10_000, what: 'restart' });
    expect(t.reports.map((r) => r.state)).toEqual(['downloading', 'staged']);
    expect(readFileSync(join(t.stateDir, 'versions/1.1.0/canh-agent.mjs'), 'utf8')).toContain('"1.1.0"');
    expect(existsSync(join(t.stateDir, 'versions/1.1.0/pad.bin'))).toBe(true);
    const pointer = JSON.parse(readFileSync(join(t.stateDir, 'versions/current.json'), 'utf8')) as Record<string, unknown>;
    expect(pointer).toMatchObject({ version: '1.1.0', previous: null, lastSeq: 1, trial: { version: '1.1.0', seq: 1, starts: 0 } });
    // The retained offer delivered again (a reconnect) changes nothing.
    const before = served;
    t.u.onOffer(offer(1, '1.1.0', pack('1.1.0')));
    await t.u.stop();
    expect(served).toBe(before);
  });

  it('refuses without a pinned key, with a signature of another key, for another platform, over the size bound', async () => {
    const pkg = pack('1.2.0');
    const cases: Array<[Record<string, unknown>, Buffer, RegExp]> = [
      [{}, offer(1, '1.2.0', pkg), /no release key pinned/],
      [{ publicKey: PUBLIC }, offer(1, '1.2.0', pkg, {}, generateKeyPairSync('ed25519').privateKey), /bad signature/],
      [{ publicKey: PUBLIC }, offer(1, '1.2.0', pkg, { platform: process.platform === 'win32' ? 'linux' : 'windows' }), /the package is for/],
      [{ publicKey: PUBLIC, maxBytes: 2048 }, offer(1, '1.2.0', pkg), /more than update.maxBytes/],
      [{ publicKey: PUBLIC, enabled: false }, offer(1, '1.2.0', pkg), /disabled/],
    ];
    for (const [update, payload, reason] of cases) {
      const t = makeUpdater(update);
      await t.u.start();
      const before = served;
      t.u.onOffer(payload);
      await waitFor(() => t.reports.length > 0, { timeoutMs: 5000, what: 'report' });
      await t.u.stop();
      expect(t.reports).toEqual([expect.objectContaining({ state: 'refused', version: '1.2.0', from: '1.0.0', seq: 1, reason: expect.stringMatching(reason) })]);
      expect(served).toBe(before); // nothing downloaded
      expect(t.restarts()).toBe(0);
      expect(existsSync(join(t.stateDir, 'versions/1.2.0'))).toBe(false);
    }
  });

  it('refuses a package whose bytes are not the signed ones (the server changed it), and stages nothing', async () => {
    const t = makeUpdater({ publicKey: PUBLIC });
    await t.u.start();
    const payload = offer(1, '1.3.0', pack('1.3.0'));
    const evil = Buffer.from(files.get('canh-agent-1.3.0.tar.gz')!);
    evil[evil.length - 10]! ^= 0xff;
    files.set('canh-agent-1.3.0.tar.gz', evil);
    t.u.onOffer(payload);
    await waitFor(() => t.reports.some((r) => r.state === 'refused'), { timeoutMs: 5000, what: 'refusal' });
    await t.u.stop();
    expect(t.reports.at(-1)!.reason).toMatch(/SHA-256 .* is not the signed one/);
    expect(existsSync(join(t.stateDir, 'versions/1.3.0'))).toBe(false);
    expect(t.restarts()).toBe(0);
  });

  it('does not start an offer whose window has passed (the working hours began): nothing downloaded, nothing remembered', async () => {
    const t = makeUpdater({ publicKey: PUBLIC });
    await t.u.start();
    const late = JSON.parse(offer(1, '1.5.0', pack('1.5.0')).toString()) as Record<string, unknown>;
    const before = served;
    t.u.onOffer(Buffer.from(JSON.stringify({ ...late, until: Date.now() - 1000 })));
    await new Promise((r) => setTimeout(r, 300));
    await t.u.stop();
    expect(t.reports).toEqual([]);
    expect(served).toBe(before);
    expect(existsSync(join(t.stateDir, 'versions/current.json'))).toBe(false);
  });

  it('skips (and says so once) while the disk is nearly full; tries again at the next delivery', async () => {
    const t = makeUpdater({ publicKey: PUBLIC, minFreeBytes: 1_000_000 }, 500_000);
    await t.u.start();
    const payload = offer(1, '1.4.0', pack('1.4.0'));
    t.u.onOffer(payload);
    t.u.onOffer(payload);
    await waitFor(() => t.reports.length > 0, { timeoutMs: 5000, what: 'skip' });
    await t.u.stop();
    expect(t.reports).toEqual([expect.objectContaining({ state: 'skipped', reason: expect.stringMatching(/disk nearly full/) })]);
    // Not remembered as handled: the pointer has no lastSeq.
    expect(existsSync(join(t.stateDir, 'versions/current.json'))).toBe(false);
  });
});

describe('paced, bounded download', () => {
  it('keeps to the rate (generous lower bound: pacing can only slow it) and hashes what it got', async () => {
    const data = Buffer.alloc(300_000, 7);
    files.set('paced.bin', data);
    const t0 = performance.now();
    const got = await download({ url: `${base}/x/paced.bin`, expectedBytes: data.length, bytesPerSecond: 200_000, idleTimeoutMs: 10_000, clock: systemClock });
    const seconds = (performance.now() - t0) / 1000;
    expect(got.sha256).toBe(createHash('sha256').update(data).digest('hex'));
    // 300 kB at 200 kB/s: at least ~1.5 s minus the first burst; unpaced it takes milliseconds.
    expect(seconds).toBeGreaterThan(1.0);
  });

  it('stops at once when the server sends more than the signed size', async () => {
    files.set('big.bin', Buffer.alloc(200_000, 1));
    await expect(download({ url: `${base}/x/big.bin`, expectedBytes: 50_000, bytesPerSecond: 0, idleTimeoutMs: 10_000, clock: systemClock })).rejects.toThrow(
      /larger than the 50000 bytes/,
    );
    await expect(download({ url: `${base}/x/missing.bin`, expectedBytes: 10, bytesPerSecond: 0, idleTimeoutMs: 10_000, clock: systemClock })).rejects.toThrow(/HTTP 404/);
  });
});
