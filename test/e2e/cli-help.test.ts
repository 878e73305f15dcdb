/**
 * The CLI as a new user meets it (issue 15): `--help` on every command and subcommand
 * (snapshots, Vietnamese and English), user errors without stack traces (exit 2), unknown
 * configuration keys in a file and in the environment, store commands that will not create
 * an empty store in the wrong folder, and the admin token after a first start that failed
 * because the HTTP port was taken. Real `canh` processes from `dist/`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { HELP_COMMANDS } from '../../cli/help.js';
import { freePort } from '../helpers/free-port.js';
import { AGENT_BUNDLE, assertBuilt, CLI, startCanh } from '../helpers/processes.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dirs: string[] = [];
function tempDir(prefix: string): string {
  // realpath: /tmp may be a symlink, and the CLI prints resolved paths.
  const d = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A bare environment: no locale, no CANH_* settings of the machine running the tests. */
function run(args: string[], opts: { cwd?: string; env?: Record<string, string>; entry?: string } = {}) {
  assertBuilt();
  const r = spawnSync(process.execPath, [opts.entry ?? CLI, ...args], {
    encoding: 'utf8',
    cwd: opts.cwd ?? tempDir('canh-cli-cwd-'),
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...opts.env },
    timeout: 30_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A Node stack frame (`    at fn (file:1:2)`) or an internal error code leaking out. */
const STACK = /^\s+at .+[:(]/m;

const INVOCATIONS: string[][] = [
  [],
  ['up'],
  ['collector'],
  ['agent'],
  ['credentials'],
  ['credentials', 'add'],
  ['credentials', 'add-collector'],
  ['credentials', 'list'],
  ['credentials', 'revoke'],
  ['credentials', 'export-mosquitto'],
  ['tokens'],
  ['tokens', 'create'],
  ['tokens', 'list'],
  ['tokens', 'revoke'],
  ['enroll'],
  ['enroll', 'create'],
  ['enroll', 'list'],
  ['enroll', 'revoke'],
  ['enroll', 'machines'],
  ['enroll', 'approve'],
  ['enroll', 'reject'],
  ['agent-config'],
  ['agent-config', 'set'],
  ['agent-config', 'show'],
  ['agent-config', 'clear'],
  ['release'],
  ['release', 'keygen'],
  ['release', 'sign'],
  ['release', 'publish'],
  ['release', 'target'],
  ['release', 'status'],
  ['alerts'],
  ['alerts', 'list'],
  ['silence'],
  ['silence', 'add'],
  ['silence', 'list'],
  ['silence', 'expire'],
  ['notify'],
  ['notify', 'test'],
  ['notify', 'status'],
  ['report'],
];

describe('canh --help', () => {
  it('the invocation list covers every command that has a help text', () => {
    expect(new Set(INVOCATIONS.map((i) => i[0]).filter(Boolean))).toEqual(new Set(HELP_COMMANDS));
  });

  for (const inv of INVOCATIONS) {
    const name = ['canh', ...inv].join(' ');
    it(`${name} --help / -h: Vietnamese by default, English with --lang en; exit 0, no stack trace, nothing created`, ({ expect }) => {
      const cwd = tempDir('canh-help-');
      const vi = run([...inv, '--help'], { cwd });
      expect(vi.stderr).toBe('');
      expect(vi.status).toBe(0);
      expect(vi.stdout).not.toMatch(STACK);
      expect(vi.stdout).toMatch(/Cách dùng/);
      expect(vi.stdout).toMatchSnapshot('vi');
      // -h is the same text.
      expect(run([...inv, '-h'], { cwd }).stdout).toBe(vi.stdout);
      const en = run([...inv, '--help', '--lang', 'en'], { cwd });
      expect(en.status).toBe(0);
      expect(en.stdout).toMatch(/Usage/);
      expect(en.stdout).not.toMatch(STACK);
      expect(en.stdout).toMatchSnapshot('en');
      if (inv.length <= 1 && ['', 'tokens', 'up'].includes(inv[0] ?? '')) {
        // The environment chooses English too; a locale that is not English keeps Vietnamese.
        expect(run([...inv, '--help'], { cwd, env: { CANH_LANG: 'en' } }).stdout).toBe(en.stdout);
        expect(run([...inv, '--help'], { cwd, env: { LANG: 'en_US.UTF-8' } }).stdout).toBe(en.stdout);
        expect(run([...inv, '--help'], { cwd, env: { LANG: 'C.UTF-8' } }).stdout).toBe(vi.stdout);
        expect(run([...inv, '--help'], { cwd, env: { LANG: 'en_US.UTF-8', CANH_LANG: 'vi' } }).stdout).toBe(vi.stdout);
      }
      // Help reads no configuration and opens no store.
      expect(readdirSync(cwd)).toEqual([]);
    });
  }

  it('canh help COMMAND and the stand-alone agent build answer too', () => {
    expect(run(['help', 'tokens']).stdout).toBe(run(['tokens', '--help']).stdout);
    const agent = run(['--help'], { entry: AGENT_BUNDLE });
    expect(agent.status).toBe(0);
    expect(agent.stdout).toBe(run(['agent', '--help']).stdout);
    const bad = run(['--nope'], { entry: AGENT_BUNDLE });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('canh agent: không có tùy chọn --nope');
    expect(bad.stderr).not.toMatch(STACK);
  });

  it('npx canh works in the source folder (the bin of package.json), offline', () => {
    const r = spawnSync('npx', ['canh', 'tokens', '--help', '--lang', 'en'], {
      cwd: ROOT,
      encoding: 'utf8',
      // Never the registry: a package of that name there must not be what runs.
      env: { ...process.env, npm_config_offline: 'true', npm_config_update_notifier: 'false' },
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(run(['tokens', '--help', '--lang', 'en']).stdout);
  });
});

describe('user errors: one clear line, the usage, exit 2, never a stack trace', () => {
  const cases: Array<{ args: string[]; message: string }> = [
    { args: ['frobnicate'], message: 'canh: không có lệnh "frobnicate"' },
    { args: ['up', '--port', '80'], message: 'canh up: không có tùy chọn --port' },
    { args: ['collector', '--nope'], message: 'canh collector: không có tùy chọn --nope' },
    { args: ['agent', '-x'], message: 'canh agent: không có tùy chọn -x' },
    { args: ['credentials', 'add', '--site'], message: 'canh credentials: tùy chọn --site cần một giá trị' },
    { args: ['credentials', 'frob'], message: 'canh credentials: không có lệnh con "frob"' },
    { args: ['tokens'], message: 'canh tokens: thiếu lệnh con (create, list, revoke)' },
    { args: ['tokens', 'list', '--json=yes'], message: 'canh tokens: tùy chọn --json không nhận giá trị' },
    { args: ['alerts', 'show'], message: 'canh alerts: không có lệnh con "show"' },
    { args: ['silence', 'list', '--bogus'], message: 'canh silence: không có tùy chọn --bogus' },
    { args: ['notify', 'test'], message: 'canh notify: canh notify test cần --channel TÊN' },
    { args: ['report', '--sit', 'x'], message: 'canh report: không có tùy chọn --sit' },
  ];
  for (const c of cases) {
    it(`canh ${c.args.join(' ')}`, () => {
      const cwd = tempDir('canh-usage-');
      const r = run(c.args, { cwd });
      expect(r.status).toBe(2);
      expect(r.stderr.split('\n')[0]).toBe(c.message);
      expect(r.stderr).toMatch(/Cách dùng/);
      expect(r.stderr).not.toMatch(STACK);
      expect(r.stderr).not.toMatch(/ERR_PARSE_ARGS|TypeError/);
      expect(readdirSync(cwd)).toEqual([]);
    });
  }

  it('in English with --lang en', () => {
    const r = run(['tokens', 'list', '--bogus', '--lang', 'en']);
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('canh tokens: unknown option: --bogus');
    expect(r.stderr).toMatch(/Usage/);
  });
});

describe('unknown configuration keys stop the program (exit 2) naming the closest known key', () => {
  it('collector: http.prot and alertng in the file, CANH_COLLECTOR__HTTP__PROT in the environment', () => {
    const cwd = tempDir('canh-keys-');
    const file = join(cwd, 'collector.json');
    writeFileSync(file, JSON.stringify({ dataDir: join(cwd, 'data'), http: { prot: 8081 }, alertng: { enabled: false } }));
    const r = run(['collector', '--config', file], { cwd });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('canh collector: invalid configuration (2 problems):');
    expect(r.stderr).toContain('  http.prot: unknown key — did you mean http.port?');
    expect(r.stderr).toContain('  alertng: unknown key — did you mean alerting?');
    expect(r.stderr).not.toMatch(STACK);
    // Nothing was started or created.
    expect(existsSync(join(cwd, 'data'))).toBe(false);
    const e = run(['collector'], { cwd, env: { CANH_COLLECTOR__HTTP__PROT: '8081', CANH_COLLECTOR__DATA_DIR: join(cwd, 'data') } });
    expect(e.status).toBe(2);
    expect(e.stderr).toContain('CANH_COLLECTOR__HTTP__PROT (http.prot): unknown key — did you mean CANH_COLLECTOR__HTTP__PORT (http.port)?');
    expect(existsSync(join(cwd, 'data'))).toBe(false);
  });

  it('agent (the stand-alone build): intervalSecond in the file, a nested typo in the environment', () => {
    const cwd = tempDir('canh-keys-agent-');
    const file = join(cwd, 'agent.json');
    writeFileSync(file, JSON.stringify({ site: 'xa-an-binh', intervalSecond: 60, mqtt: { url: 'mqtt://127.0.0.1:9', password: 'p' } }));
    const r = run(['--config', file], { cwd, entry: AGENT_BUNDLE, env: { CANH_AGENT__MQTT__KEEPALIVE_SECOND: '20' } });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('intervalSecond: unknown key — did you mean intervalSeconds?');
    expect(r.stderr).toContain(
      'CANH_AGENT__MQTT__KEEPALIVE_SECOND (mqtt.keepaliveSecond): unknown key — did you mean CANH_AGENT__MQTT__KEEPALIVE_SECONDS (mqtt.keepaliveSeconds)?',
    );
    expect(r.stderr).not.toMatch(STACK);
  });
});

describe('store commands never create an empty store in the wrong folder', () => {
  const readers: string[][] = [
    ['credentials', 'list'],
    ['credentials', 'add', '--site', 'xa-an-binh'],
    ['tokens', 'list'],
    ['tokens', 'create', '--name', 'me', '--role', 'admin'],
    ['alerts', 'list'],
    ['silence', 'list'],
    ['notify', 'status'],
  ];
  for (const args of readers) {
    it(`canh ${args.join(' ')} run in a folder without the collector's data: refused, says where it looked, creates nothing`, () => {
      const cwd = tempDir('canh-elsewhere-');
      const r = run(args, { cwd });
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`không thấy kho dữ liệu của máy chủ thu thập: chưa có ${join(cwd, 'data', 'canh.db')}`);
      expect(r.stderr).toContain(`Đã tìm trong thư mục ${join(cwd, 'data')} (mặc định ./data của thư mục hiện tại ${cwd})`);
      expect(r.stderr).toContain('--data-dir DIR');
      expect(r.stderr).not.toMatch(STACK);
      expect(readdirSync(cwd)).toEqual([]);
    });
  }

  it('a pointed-at folder: read commands still refuse a missing store; the first credential or token creates it there', () => {
    const cwd = tempDir('canh-pointed-');
    const dataDir = join(cwd, 'collector-data');
    const list = run(['tokens', 'list', '--data-dir', dataDir, '--lang', 'en'], { cwd });
    expect(list.status).toBe(2);
    expect(list.stderr).toContain(`Looked in ${dataDir} (as configured)`);
    expect(existsSync(dataDir)).toBe(false);
    const add = run(['credentials', 'add', '--site', 'xa-an-binh', '--host', 'pc-01', '--json', '--data-dir', dataDir], { cwd });
    expect(add.status, add.stderr).toBe(0);
    expect(existsSync(join(dataDir, 'canh.db'))).toBe(true);
    const again = run(['credentials', 'list', '--json'], { cwd, env: { CANH_COLLECTOR__DATA_DIR: dataDir } });
    expect(again.status, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as Array<{ username: string }>).map((c) => c.username)).toEqual(['xa-an-binh.pc-01']);
    // The report command reads only: exit 1 (no data), as before.
    const report = run(['report', '--site', 'all', '--data-dir', join(cwd, 'nothing-here')], { cwd });
    expect(report.status).toBe(1);
    expect(report.stderr).toContain('không thấy kho dữ liệu');
  });
});

describe('the first admin token when the first start fails (HTTP port taken)', () => {
  let blocker: Server | undefined;
  afterAll(() => blocker?.close());

  it('the failed start prints no token; the next start revokes the unseen one and prints a new one that works', async () => {
    const dataDir = tempDir('canh-token-');
    const httpPort = await freePort();
    const env = {
      CANH_COLLECTOR__DATA_DIR: dataDir,
      CANH_COLLECTOR__HTTP__HOST: '127.0.0.1',
      CANH_COLLECTOR__HTTP__PORT: String(httpPort),
      CANH_COLLECTOR__BROKER__EMBEDDED__HOST: '127.0.0.1',
      CANH_COLLECTOR__BROKER__EMBEDDED__PORT: String(await freePort()),
    };
    // Another program holds the board's port.
    blocker = createServer();
    await new Promise<void>((res) => blocker!.listen({ port: httpPort, host: '127.0.0.1', exclusive: true }, res));
    const failed = startCanh(['collector'], env, 'collector-1');
    expect(await failed.exited()).toBe(1);
    expect(failed.output()).toContain(`canh: cổng ${httpPort} đang được dùng`);
    expect(failed.output()).not.toMatch(/canh_[A-Za-z0-9_-]{43}/);
    expect(failed.output()).not.toMatch(STACK);
    const db = new Database(join(dataDir, 'canh.db'), { readonly: true });
    const rows = () =>
      db.prepare('SELECT id, role, revoked_at, unseen FROM api_tokens ORDER BY id').all() as Array<{ id: number; role: string; revoked_at: number | null; unseen: number }>;
    // Made at open, never shown: still "unseen".
    expect(rows()).toEqual([{ id: 1, role: 'admin', revoked_at: null, unseen: 1 }]);
    await new Promise<void>((res) => blocker!.close(() => res()));
    blocker = undefined;

    const second = startCanh(['collector'], env, 'collector-2');
    await second.waitFor((l) => l.msg === 'collector started', 30_000, 'collector started');
    const out = second.output();
    expect(out).toContain('Lần chạy trước dừng trước khi kịp hiện mã quản trị');
    const token = /canh_[A-Za-z0-9_-]{43}/.exec(out)?.[0];
    expect(token).toBeDefined();
    const me = await fetch(`http://127.0.0.1:${httpPort}/api/auth/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ role: 'admin' });
    const after = rows();
    expect(after).toHaveLength(2);
    expect(after[0]!.revoked_at).not.toBeNull();
    expect(after[1]).toMatchObject({ id: 2, role: 'admin', revoked_at: null, unseen: 0 });
    expect(await second.stop()).toBe(0);

    // Shown once: the third start prints none and revokes nothing.
    const third = startCanh(['collector'], env, 'collector-3');
    await third.waitFor((l) => l.msg === 'collector started', 30_000, 'collector started');
    expect(third.output()).not.toMatch(/canh_[A-Za-z0-9_-]{43}/);
    expect(await third.stop()).toBe(0);
    expect(rows()[1]).toMatchObject({ id: 2, revoked_at: null });
    db.close();
  });
});
