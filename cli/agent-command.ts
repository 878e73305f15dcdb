import { parseArgs } from 'node:util';
import { Agent } from '../agent/agent.js';
import { makePrivateFile } from '../agent/platform/private-files.js';
import { AgentConfigSchema } from '../agent/config.js';
import { loadConfig } from '../common/config-loader.js';
import { createLogger } from '../common/log.js';
import { loadOrReport } from './config-errors.js';
import { runUntilSignal } from './run-service.js';

export async function runAgentCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' } }, strict: true });
  const config = loadOrReport('agent', () => loadConfig(AgentConfigSchema, { file: values.config ?? process.env.CANH_AGENT_CONFIG, envPrefix: 'CANH_AGENT' }));
  if (!config) return 2;
  const log = createLogger('canh-agent', { level: config.log.level });
  // Everything the agent creates is its own only (files 0600, folders 0700).
  if (process.platform !== 'win32') process.umask(0o077);
  const configFile = values.config ?? process.env.CANH_AGENT_CONFIG;
  if (configFile) await makePrivateFile(configFile, { log });
  const agent = new Agent(config, log);
  const parent = Number(process.env.CANH_PARENT_PID);
  return runUntilSignal(agent, log, 15_000, Number.isInteger(parent) && parent > 1 ? parent : undefined);
}
