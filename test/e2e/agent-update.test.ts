/**
 * Signed agent self-update end to end (issue 16 item 2): a collector process with the
 * embedded broker, real agent processes started from the installed bundle (dist/) under a
 * systemd-like supervisor, and releases built, signed and published in the test with the
 * `canh release` CLI: a real next version (the agent bundled again with another version),
 * a version that cannot connect, and one signed with another key.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeployment, type Deployment } from '../helpers/deployment.js';
import { addCredential, CLI, runCanhSync } from '../helpers/processes.js';
import { superviseAgent, type SupervisedAgent } from '../helpers/supervised-agent.js';
import { waitFor } from '../helpers/wait.js';

const NIGHT = 'xa-dem'; // never working hours: offers go out at once
const DAY = 'xa-ngay'; // always working hours: nothing unless forced
const ALL_DAY = Object.fromEntries(['1', '2', '3', '4', '5', '6', '7'].map((d) => [d, [['00:00', '24:00']]]));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';

interface UpdateAnswer {
  rollout: { version: string; stage: number; halted: string | null; first: { total: number; updated: number; failed: number } } | null;
  hosts: Array<{
    site: string;
    host: string;
    agentVersion: string | null;
    offer: { version: string; seq: number; offeredAt: number } | null;
    report: { state: string; version: string; from: string; reason: string | null; at: number } | null;
  }>;
}

/** A release package as scripts/build-linux-agent.mjs lays it out: one top folder with the bundle. */
function pack(dir: string, version: string, fill: (top: string) => void): string {
  const stage = mkdtempSync(join(dir, `stage-${version}-`));
  const top = join(stage, 'canh-agent-linux');
  mkdirSync(top);
  fill(top);
  const out = join(dir, `canh-agent-${version}.tar.gz`);
  execFileSync('tar', ['--sort=name', '--owner=0', '--group=0', '-czf', out, '-C', stage, 'canh-agent-linux']);
  return out;
}

function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, encoding: 'utf8' }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(' ')} failed: ${stderr || err.message}`)) : resolve(stdout),
    );
  });
}
const canhAsync = (args: string[]) => run(process.execPath, [CLI, ...args]);

function canh(args: string[]): string {
  const r = runCanhSync(args);
  if (r.status !== 0) throw new Error(`canh ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

describe('signed agent self-update end to end', () => {
  let dep: Deployment;
  let work: string;
  let publicKey: string;
  const agents = new Map<string, SupervisedAgent>();
  const stateDirs = new Map<string, string>();

  const status = () => dep.api<UpdateAnswer>('/api/agent-update');
  const hostOf = async (host: string) => (await status()).hosts.find((h) => h.host === host)!;
  const target = (version: string, ...flags: string[]) => canh(['release', 'target', version, '--data-dir', dep.dataDir, ...flags]);

  beforeAll(async () => {
    dep = await createDeployment('canh-e2e-update-');
    work = mkdtempSync(join(tmpdir(), 'canh-e2e-release-'));
    // In parallel (a loaded test machine): the collector, the keys (the release key and one
    // that is not pinned anywhere), 9.0.0 (the agent bundled again with another version).
    const bundle = join(work, 'bundle-9.0.0');
    const [keygen] = await Promise.all([
      canhAsync(['release', 'keygen', '--out', join(work, 'release.key'), '--json']),
      canhAsync(['release', 'keygen', '--out', join(work, 'other.key'), '--json']),
      run(process.execPath, [join(ROOT, 'scripts/bundle-agent.mjs')], { CANH_BUNDLE_VERSION: '9.0.0', CANH_BUNDLE_OUTDIR: bundle }),
      dep.startCollector({
        CANH_COLLECTOR__AGENT_UPDATE__POLL_SECONDS: '1',
        CANH_COLLECTOR__SITES: JSON.stringify({ [NIGHT]: { workingHours: { days: {} } }, [DAY]: { workingHours: { days: ALL_DAY } } }),
      }),
    ]);
    publicKey = (JSON.parse(keygen) as { publicKey: string }).publicKey;
    const good = pack(work, '9.0.0', (top) => {
      for (const f of readdirSync(bundle)) if (f.endsWith('.mjs')) copyFileSync(join(bundle, f), join(top, f));
    });
    // 9.0.1: starts, never connects (a broken build).
    const broken = pack(work, '9.0.1', (top) => writeFileSync(join(top, 'canh-agent.mjs'), 'setInterval(() => {}, 1000);\n'));
    // 9.0.3: exits with an error at every start (a crash), after loading.
    const crashing = pack(work, '9.0.3', (top) => writeFileSync(join(top, 'canh-agent.mjs'), 'setTimeout(() => process.exit(1), 200);\n'));
    // 9.0.2: a real bundle, signed with a key the PCs do not trust.
    const badsig = pack(work, '9.0.2', (top) => {
      for (const f of readdirSync(bundle)) if (f.endsWith('.mjs')) copyFileSync(join(bundle, f), join(top, f));
    });
    const releases = [
      [good, '9.0.0', 'release.key'],
      [broken, '9.0.1', 'release.key'],
      [crashing, '9.0.3', 'release.key'],
      [badsig, '9.0.2', 'other.key'],
    ] as const;
    await Promise.all(releases.map(([file, version, key]) => canhAsync(['release', 'sign', '--key', join(work, key), '--version', version, file])));
    // One store writer at a time, as an admin types them.
    for (const [file] of releases) await canhAsync(['release', 'publish', file, '--data-dir', dep.dataDir]);
    for (const [site, host] of [
      [NIGHT, 'pc-1'],
      [NIGHT, 'pc-2'],
      [DAY, 'pc-3'],
    ] as const) {
      const cred = addCredential(dep.dataDir, site, host);
      const stateDir = mkdtempSync(join(work, `state-${host}-`));
      stateDirs.set(host, stateDir);
      const env = dep.agentEnv(site, host, cred, stateDir, {
        CANH_AGENT__UPDATE__PUBLIC_KEY: publicKey,
        CANH_AGENT__UPDATE__URL: `http://127.0.0.1:${dep.httpPort}`,
        CANH_AGENT__UPDATE__TRIAL_SECONDS: '6',
        CANH_AGENT__UPDATE__MIN_FREE_BYTES: '0',
        CANH_AGENT__INTERVAL_SECONDS: '2',
        CANH_AGENT__PING__ENABLED: 'false',
        CANH_AGENT__DISK_HEALTH__ENABLED: 'false',
      });
      agents.set(host, superviseAgent(env, host));
    }
    await waitFor(async () => (await status()).hosts.filter((h) => h.agentVersion === '0.1.0').length === 3, { timeoutMs: 30_000, what: 'three agents online' });
  }, 90_000);

  afterAll(async () => {
    await Promise.all([...agents.values()].map((a) => a.stop()));
    await dep?.stopAll();
  });

  it('updates the first stage to a signed new version, keeps the rest for after it and outside working hours, until forced', async () => {
    target('9.0.0', '--share', '0', '--sites', NIGHT);
    // The first stage (the chosen site) downloads, verifies, stages, switches and restarts into 9.0.0.
    await waitFor(async () => (await status()).hosts.filter((h) => h.site === NIGHT && h.agentVersion === '9.0.0').length === 2, {
      timeoutMs: 40_000,
      what: 'first stage on 9.0.0',
    });
    for (const host of ['pc-1', 'pc-2']) {
      const a = agents.get(host)!;
      expect(a.exits[0]).toBe(3); // restarted through the service manager
      expect(a.logs().some((l) => l.msg === 'starting the staged agent version' && l.version === '9.0.0')).toBe(true);
      await waitFor(async () => (await hostOf(host)).report?.state === 'applied', { timeoutMs: 20_000, what: `${host} applied report` });
      expect((await hostOf(host)).report).toMatchObject({ state: 'applied', version: '9.0.0', from: '0.1.0' });
    }
    // pc-3: the second stage, in a site inside its working hours: not offered (3 evaluations).
    await new Promise((r) => setTimeout(r, 3000));
    let s = await status();
    expect(s.rollout).toMatchObject({ version: '9.0.0', stage: 2, halted: null, first: { total: 2, updated: 2, failed: 0 } });
    expect(s.hosts.find((h) => h.host === 'pc-3')).toMatchObject({ agentVersion: '0.1.0', offer: null });
    expect(agents.get('pc-3')!.runs).toHaveLength(1);
    // Forced: offered now, after the first stage's reports.
    target('9.0.0', '--share', '0', '--sites', NIGHT, '--force');
    await waitFor(async () => (await hostOf('pc-3')).agentVersion === '9.0.0', { timeoutMs: 40_000, what: 'pc-3 on 9.0.0' });
    s = await status();
    const pc3 = s.hosts.find((h) => h.host === 'pc-3')!;
    const firstApplied = Math.max(...s.hosts.filter((h) => h.site === NIGHT).map((h) => h.report!.at));
    expect(pc3.offer!.offeredAt).toBeGreaterThan(firstApplied);
  }, 100_000);

  it('refuses and reports a release not signed by the pinned key; the running version stays', async () => {
    target('9.0.2', '--share', '0', '--sites', NIGHT, '--force');
    await waitFor(async () => (await hostOf('pc-1')).report?.version === '9.0.2', { timeoutMs: 20_000, what: 'pc-1 report on 9.0.2' });
    const pc1 = await hostOf('pc-1');
    expect(pc1.report).toMatchObject({ state: 'refused', version: '9.0.2' });
    expect(pc1.report!.reason).toMatch(/bad signature/);
    expect(pc1.agentVersion).toBe('9.0.0');
    expect(agents.get('pc-1')!.current().proc.exitCode).toBeNull();
    await waitFor(async () => (await status()).rollout?.halted, { timeoutMs: 10_000, what: 'rollout halted' });
    // Refused before any download: no version folder for it; the pointer still names 9.0.0.
    expect(readdirSync(join(stateDirs.get('pc-1')!, 'versions')).sort()).toEqual(['9.0.0', 'current.json']);
    expect(JSON.parse(readFileSync(join(stateDirs.get('pc-1')!, 'versions', 'current.json'), 'utf8'))).toMatchObject({ version: '9.0.0' });
  }, 60_000);

  it('rolls back by itself a new version that does not connect, and reports it', async () => {
    target('9.0.1', '--share', '0', '--sites', NIGHT, '--force');
    const a = agents.get('pc-1')!;
    const before = a.runs.length;
    await waitFor(() => a.logs().some((l) => l.msg === 'agent update rolled back: the new version did not confirm in time; restarting'), { timeoutMs: 40_000, what: 'rollback' });
    await waitFor(async () => (await hostOf('pc-1')).report?.state === 'rolled_back', { timeoutMs: 30_000, what: 'rolled_back report' });
    const pc1 = await hostOf('pc-1');
    expect(pc1.report).toMatchObject({ state: 'rolled_back', version: '9.0.0', from: '9.0.1' });
    expect(pc1.report!.reason).toMatch(/did not connect/);
    expect(pc1.agentVersion).toBe('9.0.0');
    // Switched, restarted into 9.0.1 (which never connected), restarted back into 9.0.0.
    expect(a.runs.length).toBeGreaterThanOrEqual(before + 2);
    expect(a.current().proc.exitCode).toBeNull();
    // The board says it, in Vietnamese: on the PC page and on the Updates page (rollout halted).
    await waitFor(async () => (await hostOf('pc-2')).report?.state === 'rolled_back', { timeoutMs: 30_000, what: 'pc-2 rolled back too' });
    await waitFor(async () => (await status()).rollout?.first.failed === 2, { timeoutMs: 10_000, what: 'rollout halted by both' });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN' })).newPage();
      await page.goto(`http://127.0.0.1:${dep.httpPort}/`);
      await page.waitForSelector('#login-form');
      await page.fill('#token', dep.apiToken());
      await page.click('#login-submit');
      await page.waitForFunction(() => document.getElementById('view')?.getAttribute('data-view') !== 'login');
      await page.goto(`http://127.0.0.1:${dep.httpPort}/#/host/${NIGHT}/pc-1/1h`);
      await page.waitForSelector('#host-update');
      expect(await page.textContent('#host-update')).toMatch(/^9\.0\.1 → 9\.0\.0 — phiên bản mới không chạy được, đã tự quay lại: version 9\.0\.1 did not connect/);
      expect(await page.getAttribute('#host-update', 'class')).toBe('warn');
      expect(await page.textContent('#nav-updates')).toBe('Cập nhật');
      await page.click('#nav-updates');
      await page.waitForSelector('#rollout-stage');
      expect(await page.textContent('#rollout-version')).toBe('9.0.1 — cả trong giờ làm việc (force)');
      expect(await page.textContent('#rollout-stage')).toBe('đã dừng: 2 máy từ chối hoặc tự quay lại phiên bản này');
      expect(await page.textContent('#rollout-first')).toBe('0 / 2 — 2 lỗi');
      const rows = await page.$$eval('table.update-hosts tbody tr', (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent)));
      expect(rows).toEqual(
        expect.arrayContaining([
          [NIGHT, expect.any(String), '9.0.0', expect.stringMatching(/^9\.0\.1 → 9\.0\.0 — phiên bản mới không chạy được/)],
          [DAY, expect.any(String), '9.0.0', '9.0.0 — đã cập nhật'],
        ]),
      );
    } finally {
      await browser.close();
    }
  }, 100_000);

  it('rolls back a new version that crashes at every start, at the start after its second one', async () => {
    const a = agents.get('pc-1')!;
    const exitsBefore = a.exits.length;
    target('9.0.3', '--share', '0', '--sites', NIGHT, '--force');
    await waitFor(async () => (await hostOf('pc-1')).report?.from === '9.0.3', { timeoutMs: 40_000, what: 'pc-1 report about 9.0.3' });
    const pc1 = await hostOf('pc-1');
    expect(pc1.report).toMatchObject({ state: 'rolled_back', version: '9.0.0', from: '9.0.3' });
    expect(pc1.report!.reason).toMatch(/did not connect and get a collector acknowledgement in 2 starts/);
    // Exit 3 (the switch), then two crashes (exit 1) of 9.0.3, then 9.0.0 again, running.
    expect(a.exits.slice(exitsBefore)).toEqual([3, 1, 1]);
    expect(a.current().proc.exitCode).toBeNull();
    expect(JSON.parse(readFileSync(join(stateDirs.get('pc-1')!, 'versions', 'current.json'), 'utf8'))).toMatchObject({ version: '9.0.0' });
  }, 60_000);
});
