import { parseArgs } from 'node:util';
import { Agent } from '../agent/agent.js';
import { makePrivateFile } from '../agent/platform/private-files.js';
import { AgentConfigSchema } from '../agent/config.js';
import { RemoteConfigState } from '../agent/remote-config.js';
import { launchStaged } from '../agent/update/launcher.js';
import { VERSION } from '../common/version.js';
import { EnrollmentPending, EnrollmentRefused, ensureEnrolled } from '../agent/enrollment/enrollment.js';
import { systemClock } from '../common/clock.js';
import { loadConfig } from '../common/config-loader.js';
import { createLogger } from '../common/log.js';
import { loadOrReport } from './config-errors.js';
import { runUntilSignal } from './run-service.js';

/** Exit code of `--enroll-only` when the collector holds the PC for an admin (approval mode, clone). */
export const EXIT_PENDING = 10;
/**
 * Exit code after a remote configuration change that cannot apply live (issue 16): not 0
 * and not 2, so systemd (`Restart=on-failure`, `RestartPreventExitStatus=2`) and the
 * Windows service wrapper (`onfailure restart`) start the agent again, with it.
 */
export const EXIT_RESTART = 3;

export async function runAgentCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' }, 'enroll-only': { type: 'boolean' } }, strict: true });
  const configFile = values.config ?? process.env.CANH_AGENT_CONFIG;
  const loaded = loadOrReport('agent', () => loadConfig(AgentConfigSchema, { file: configFile, envPrefix: 'CANH_AGENT' }));
  if (!loaded) return 2;
  const log = createLogger('canh-agent', { level: loaded.log.level });
  // Everything the agent creates is its own only (files 0600, folders 0700).
  if (process.platform !== 'win32') process.umask(0o077);
  if (configFile) await makePrivateFile(configFile, { log });
  // Self-update (issue 16 item 2): the version `versions/current.json` names runs in its place.
  if (!values['enroll-only']) {
    const launched = await launchStaged({
      stateDir: loaded.stateDir,
      installed: VERSION,
      trialSeconds: loaded.update.trialSeconds,
      argv,
      clock: systemClock,
      log: log.child({ module: 'launcher' }),
    });
    // The staged version runs in this process and sets the exit code itself.
    if (launched) return new Promise<number>(() => undefined);
  }
  let config = loaded;
  // Site enrolment (issue 15): no password in the config, a credential from the collector.
  if (config.mqtt.password === undefined || values['enroll-only']) {
    try {
      config = await ensureEnrolled({
        config,
        configFile,
        clock: systemClock,
        log: log.child({ module: 'enrollment' }),
        ...(values['enroll-only'] ? { returnWhenPending: true, attempts: 8 } : {}),
      });
    } catch (err) {
      if (err instanceof EnrollmentPending) {
        process.stderr.write(`canh-agent: ${err.answer.message}\n`);
        return EXIT_PENDING;
      }
      if (err instanceof EnrollmentRefused) {
        process.stderr.write(`canh-agent: đăng ký bị từ chối / enrolment refused: ${err.message}\n`);
        return 2;
      }
      process.stderr.write(`canh-agent: không đăng ký được / enrolment failed: ${(err as Error).message}\n`);
      return 1;
    }
    if (values['enroll-only']) {
      process.stdout.write(`canh-agent: đã đăng ký / enrolled: ${config.site}/${config.host} → ${config.mqtt.url}\n`);
      return 0;
    }
  }
  // Remote configuration (issue 16): the applied remote part on top of the local file.
  const state = await RemoteConfigState.load(config.stateDir, log);
  let restart = false;
  const agent = new Agent(state.effective(config, log), log, {
    remote: { local: config, state },
    onRestart: () => {
      restart = true;
      process.emit('SIGTERM', 'SIGTERM');
    },
  });
  const parent = Number(process.env.CANH_PARENT_PID);
  const code = await runUntilSignal(agent, log, 15_000, Number.isInteger(parent) && parent > 1 ? parent : undefined);
  if (restart && code === 0) {
    log.info({ exitCode: EXIT_RESTART }, 'exiting for the service manager to restart the agent with its new configuration');
    return EXIT_RESTART;
  }
  return code;
}
