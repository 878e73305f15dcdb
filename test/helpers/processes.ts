/**
 * Real `canh` processes for end-to-end tests: spawned from the build (`dist/`), logs
 * captured, helpers to wait for a log line, stop with SIGTERM or crash with SIGKILL.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli/canh.js', import.meta.url));
/** The stand-alone agent build that office PCs run (scripts/bundle-agent.mjs). */
export const AGENT_BUNDLE = fileURLToPath(new URL('../../dist/agent-bundle/canh-agent.mjs', import.meta.url));

export function assertBuilt(): void {
  for (const f of [CLI, AGENT_BUNDLE]) if (!existsSync(f)) throw new Error(`${f} missing: run \`npm run build\` first (npm test does)`);
}

export interface CanhProcess {
  proc: ChildProcess;
  output(): string;
  /** Parsed JSON log lines so far. */
  logs(): Array<Record<string, unknown>>;
  waitFor(pred: (line: Record<string, unknown>) => boolean, timeoutMs?: number, what?: string): Promise<Record<string, unknown>>;
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
  kill9(): Promise<void>;
  exited(): Promise<number | null>;
}

/**
 * Environment for a test agent: 1 s interval, quick reconnects, and pings to loopback
 * only (network tests may not target anything else: no default-gateway ping).
 */
export function testAgentEnv(
  mqttUrl: string,
  site: string,
  host: string,
  cred: { username: string; password: string },
  stateDir: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    CANH_AGENT__SITE: site,
    CANH_AGENT__HOST: host,
    CANH_AGENT__STATE_DIR: stateDir,
    CANH_AGENT__INTERVAL_SECONDS: '1',
    CANH_AGENT__MQTT__URL: mqttUrl,
    CANH_AGENT__MQTT__USERNAME: cred.username,
    CANH_AGENT__MQTT__PASSWORD: cred.password,
    CANH_AGENT__MQTT__RECONNECT_SECONDS: '0.5',
    CANH_AGENT__MQTT__RECONNECT_MAX_SECONDS: '3',
    CANH_AGENT__PING__GATEWAY: 'false',
    CANH_AGENT__PING__TARGETS: '["127.0.0.1"]',
    CANH_AGENT__PING__COUNT: '2',
    // The default probe targets the national portal on the internet: off unless a test points it at loopback.
    CANH_AGENT__HTTP__ENABLED: 'false',
    ...extra,
  };
}

/**
 * The agent as shipped: `node dist/agent-bundle/canh-agent.mjs`. `prefix`: a command that
 * execs node, e.g. `['ip', 'netns', 'exec', name]` (test/helpers/netns.ts).
 */
export function startAgentBundle(env: Record<string, string>, name = 'agent', prefix: readonly string[] = []): CanhProcess {
  return startCanh([], env, name, AGENT_BUNDLE, prefix);
}

export function startCanh(args: string[], env: Record<string, string>, name = args[0] ?? 'canh', entry = CLI, prefix: readonly string[] = []): CanhProcess {
  assertBuilt();
  const [cmd, ...argv] = [...prefix, process.execPath, entry, ...args];
  const proc = spawn(cmd!, argv, {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', CANH_LOG_LEVEL: 'debug', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const lines: Array<Record<string, unknown>> = [];
  const waiters = new Set<() => void>();
  let partial = '';
  const onData = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    out += text;
    if (out.length > 4_000_000) out = out.slice(-2_000_000);
    partial += text;
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const p of parts) {
      if (!p.startsWith('{')) continue;
      try {
        lines.push(JSON.parse(p) as Record<string, unknown>);
      } catch {
        /* not a log line */
      }
    }
    if (lines.length > 50_000) lines.splice(0, 25_000);
    for (const w of waiters) w();
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exit = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const self: CanhProcess = {
    proc,
    output: () => out,
    logs: () => lines,
    waitFor(pred, timeoutMs = 30_000, what = 'log line') {
      return new Promise((resolve, reject) => {
        let seen = 0;
        const check = () => {
          for (; seen < lines.length; seen++) {
            const l = lines[seen]!;
            if (pred(l)) {
              cleanup();
              resolve(l);
              return;
            }
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`${name}: timed out after ${timeoutMs} ms waiting for ${what}; last output:\n${out.slice(-3000)}`));
        }, timeoutMs);
        const onExit = () => {
          cleanup();
          reject(new Error(`${name} exited while waiting for ${what}; output:\n${out.slice(-3000)}`));
        };
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
          proc.off('exit', onExit);
        };
        waiters.add(check);
        proc.once('exit', onExit);
        seen = 0;
        check();
      });
    },
    async stop(signal = 'SIGTERM', timeoutMs = 20_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill(signal);
      const t = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      const code = await exit;
      clearTimeout(t);
      return code;
    },
    async kill9() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGKILL');
      await exit;
    },
    exited: () => exit,
  };
  return self;
}

/** Run `canh credentials add` against a data dir; returns the generated credential. */
export function addCredential(dataDir: string, site: string, host?: string): { username: string; password: string } {
  assertBuilt();
  const args = [CLI, 'credentials', 'add', '--data-dir', dataDir, '--site', site, '--json', ...(host ? ['--host', host] : [])];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`credentials add failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { username: string; password: string };
}

export function addCollectorCredential(dataDir: string): { username: string; password: string } {
  const r = spawnSync(process.execPath, [CLI, 'credentials', 'add-collector', '--data-dir', dataDir, '--json'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`credentials add-collector failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { username: string; password: string };
}

/** Run `canh tokens create` against a data dir (works while the collector runs); returns the token. */
export function createApiToken(dataDir: string, role: 'read' | 'admin' = 'admin', name = `test-${role}`): { id: number; token: string } {
  const r = runCanhSync(['tokens', 'create', '--data-dir', dataDir, '--name', name, '--role', role, '--json']);
  if (r.status !== 0) throw new Error(`tokens create failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { id: number; token: string };
}

export function runCanhSync(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  assertBuilt();
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
