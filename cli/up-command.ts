import { cliActor } from './cli-actor.js';
import { loadCollectorConfig } from './collector-config.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Collector } from '../collector/collector.js';
import { agentUsername } from '../collector/broker/credentials.js';
import { createLogger } from '../common/log.js';
import { slugifyId } from '../contract/topics.js';
import { runUntilSignal } from './run-service.js';
import { EXIT_RESTART } from './agent-command.js';

interface LocalSecret {
  username: string;
  password: string;
}

/**
 * `canh up`: the quick start. The collector with its embedded broker, store and board,
 * plus an agent for this PC as a child process, with a credential created on first
 * start and kept (mode 0600) in the data folder.
 */
export async function runUpCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      config: { type: 'string', short: 'c' },
      'data-dir': { type: 'string' },
      site: { type: 'string', default: 'local' },
      interval: { type: 'string' },
    },
  });
  const config = loadCollectorConfig('up', { file: values.config, dataDir: values['data-dir'], overrides: { broker: { mode: 'embedded' } } });
  if (!config) return 2;
  const log = createLogger('canh', { level: config.log.level });
  // The first-start admin token goes under the banner below, not before it.
  let tokenBanner = '';
  const collector = await Collector.open(config, log, { announce: (text) => (tokenBanner = text) });
  const site = slugifyId(values.site ?? 'local');
  const host = slugifyId(hostname());
  const secretFile = join(config.dataDir, 'local-agent.secret.json');
  let secret: LocalSecret | undefined;
  if (existsSync(secretFile)) {
    try {
      secret = JSON.parse(readFileSync(secretFile, 'utf8')) as LocalSecret;
    } catch {
      secret = undefined;
    }
  }
  const username = agentUsername(site, host);
  if (!secret || secret.username !== username) {
    const res = collector.credentials.add({ site, host, now: collector.clock.now(), rotate: true });
    collector.audit.record({ ...cliActor(), action: 'credential_rotate', target: res.username, details: { role: 'agent', site, host, localAgent: true } }, collector.clock.now());
    secret = res;
    mkdirSync(config.dataDir, { recursive: true });
    writeFileSync(`${secretFile}.tmp`, JSON.stringify(res), { mode: 0o600 });
    renameSync(`${secretFile}.tmp`, secretFile);
  }
  let child: ChildProcess | undefined;
  // The stand-alone agent build when present (what office PCs run), else the full CLI.
  const bundle = fileURLToPath(new URL('../agent-bundle/canh-agent.mjs', import.meta.url));
  const agentArgv = existsSync(bundle) ? [bundle] : [fileURLToPath(new URL('./canh.js', import.meta.url)), 'agent'];
  let stopping = false;
  const startAgent = (port: number): void => {
    // Own process group: Ctrl+C reaches only us, and we stop the agent first, once.
    // CANH_PARENT_PID lets the agent stop itself if we die without stopping it.
    child = spawn(process.execPath, agentArgv, {
      stdio: 'inherit',
      detached: true,
      env: {
        ...process.env,
        CANH_AGENT__SITE: site,
        CANH_AGENT__HOST: host,
        CANH_AGENT__STATE_DIR: resolve(config.dataDir, 'agent-state'),
        CANH_AGENT__MQTT__URL: `mqtt://127.0.0.1:${port}`,
        CANH_AGENT__MQTT__USERNAME: secret!.username,
        CANH_AGENT__MQTT__PASSWORD: secret!.password,
        CANH_PARENT_PID: String(process.pid),
        ...(values.interval ? { CANH_AGENT__INTERVAL_SECONDS: values.interval } : {}),
      },
    });
    child.on('exit', (code, signal) => {
      log.info({ code, signal }, 'local agent exited');
      // A remote configuration that needs a restart (exit 3): what systemd would do.
      if (code === EXIT_RESTART && !stopping) startAgent(port);
    });
  };
  const service = {
    start: async () => {
      await collector.start();
      const port = collector.broker!.port();
      startAgent(port);
      const httpPort = collector.http.port();
      process.stdout.write(
        `\n  Canh đang chạy / Canh is running\n` +
          `  Bảng theo dõi / board:   http://localhost:${httpPort}/\n` +
          `  Tình trạng / health:     http://localhost:${httpPort}/api/health\n` +
          `  MQTT (agents):           port ${port}, site "${site}", this PC "${host}"\n` +
          `  Dừng / stop:             Ctrl+C\n\n` +
          (tokenBanner ||
            `  Đăng nhập bằng mã quản trị đã hiện ở lần chạy đầu; mất mã thì tạo mã mới:\n` +
              `  Log in with the admin token shown at the first start; lost it? create one:\n` +
              `    canh tokens create --name admin2 --role admin --data-dir ${config.dataDir}\n\n`),
      );
    },
    stop: async () => {
      stopping = true;
      if (child && child.exitCode === null && child.signalCode === null) {
        const c = child;
        await new Promise<void>((res) => {
          c.once('exit', () => res());
          c.kill('SIGTERM');
        });
      }
      await collector.stop();
    },
  };
  return runUntilSignal(service, log);
}
