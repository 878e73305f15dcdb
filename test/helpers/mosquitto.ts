/**
 * Run a real Mosquitto broker for integration tests, configured exactly as production
 * (collector/broker/mosquitto-config.ts `mosquittoConf`), on a free localhost port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { mosquittoConf, type MosquittoConfOptions } from '../../collector/broker/mosquitto-config.js';
import { freePort } from './free-port.js';

export const MOSQUITTO_BIN = '/usr/sbin/mosquitto';
export const MOSQUITTO_PASSWD_BIN = '/usr/bin/mosquitto_passwd';
export const MOSQUITTO_MISSING = 'mosquitto not found: install it with `apt-get install -y mosquitto mosquitto-clients` ' + '(npm test does this automatically)';

export interface StartMosquittoOptions {
  /** Working directory for the generated mosquitto.conf (and persistence, if enabled). */
  dir: string;
  passwdFile: string;
  aclFile: string;
  /** Fixed port; default a free one. */
  port?: number;
  /** Enable persistence in this directory. */
  persistenceDir?: string;
  /** Other mosquittoConf options (maxQueuedMessages, …). */
  conf?: Partial<Omit<MosquittoConfOptions, 'port' | 'passwordFile' | 'aclFile' | 'persistenceDir'>>;
  /** Bound on waiting for the port to accept connections; default 10 s. */
  startTimeoutMs?: number;
  binary?: string;
}

export interface RunningMosquitto {
  port: number;
  url: string;
  confFile: string;
  /** SIGTERM and wait for exit. Idempotent. */
  stop(): Promise<void>;
  /** Send a signal (SIGKILL to simulate a crash, SIGHUP to reload passwd/acl). */
  kill(signal: NodeJS.Signals): void;
  /** Resolves when the current process exits (immediately if it is not running). */
  exited(): Promise<void>;
  /** Stop (if running) and start again on the same port with the same config. */
  restart(): Promise<void>;
  /** Everything the broker wrote to stdout/stderr (last 64 KiB). */
  output(): string;
}

/** Throw the standard message unless the mosquitto binary is present and executable. */
export function assertMosquittoInstalled(binary = MOSQUITTO_BIN): void {
  try {
    accessSync(binary, constants.X_OK);
  } catch {
    throw new Error(MOSQUITTO_MISSING);
  }
}

export async function startMosquitto(opts: StartMosquittoOptions): Promise<RunningMosquitto> {
  const binary = opts.binary ?? MOSQUITTO_BIN;
  assertMosquittoInstalled(binary);
  const port = opts.port ?? (await freePort());
  const confFile = join(opts.dir, 'mosquitto.conf');
  const text = mosquittoConf({
    // As root, Mosquitto would drop to the `mosquitto` user, which cannot read test
    // files in a 0700 temp dir; stay as the invoking user instead.
    ...(process.getuid?.() === 0 ? { user: 'root' } : {}),
    ...opts.conf,
    port,
    passwordFile: opts.passwdFile,
    aclFile: opts.aclFile,
    ...(opts.persistenceDir !== undefined ? { persistenceDir: opts.persistenceDir } : {}),
  });
  await writeFile(confFile, text, { mode: 0o600 });
  const timeoutMs = opts.startTimeoutMs ?? 10_000;

  let child: ChildProcess | undefined;
  let exit: Promise<void> = Promise.resolve();
  let out = '';

  const spawnOnce = async (): Promise<void> => {
    const c = spawn(binary, ['-c', confFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    let exitedEarly: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let spawnError: Error | undefined;
    const append = (b: Buffer): void => {
      out = (out + b.toString('utf8')).slice(-65536);
    };
    c.stdout?.on('data', append);
    c.stderr?.on('data', append);
    exit = new Promise<void>((resolve) => {
      c.once('error', (err) => {
        spawnError = err;
        resolve();
      });
      c.once('exit', (code, signal) => {
        exitedEarly = { code, signal };
        if (child === c) child = undefined;
        resolve();
      });
    });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (spawnError) throw new Error(`could not spawn ${binary}: ${spawnError.message}`);
      if (exitedEarly) {
        throw new Error(`mosquitto exited during startup (code ${exitedEarly.code}, signal ${exitedEarly.signal}):\n${tail(out)}`);
      }
      if (await canConnect(port)) return;
      if (Date.now() > deadline) {
        c.kill('SIGKILL');
        await exit;
        throw new Error(`mosquitto did not accept connections on port ${port} within ${timeoutMs} ms:\n${tail(out)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const stop = async (): Promise<void> => {
    const c = child;
    if (c && c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    await exit;
  };

  await spawnOnce();
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    confFile,
    stop,
    kill(signal) {
      child?.kill(signal);
    },
    exited: () => exit,
    async restart() {
      await stop();
      await spawnOnce();
    },
    output: () => out,
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1' });
    const done = (ok: boolean): void => {
      s.removeAllListeners();
      s.on('error', () => {});
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

function tail(text: string, lines = 30): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
