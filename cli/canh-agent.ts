#!/usr/bin/env node
/**
 * Entry point of the stand-alone agent build (`dist/agent-bundle/canh-agent.mjs`,
 * bundled by scripts/bundle-agent.mjs): what office PCs run, without the collector's
 * code and dependencies. `canh agent` runs the same command from the full CLI.
 */
// First: V8 flags for the agent process, before any other module runs (agent-v8-flags.ts).
import './agent-v8-flags.js';
import { launcherArgv } from '../agent/update/launcher.js';
import { runAgentCommand } from './agent-command.js';
import { cliLang, helpText, parseArgsMessage, usageError, wantsHelp, withoutLang } from './help.js';

async function main(argv: string[]): Promise<number> {
  const lang = cliLang(argv);
  if (wantsHelp(argv)) {
    process.stdout.write(helpText('agent', lang));
    return 0;
  }
  try {
    return await runAgentCommand(withoutLang(argv));
  } catch (err) {
    const message = parseArgsMessage(err, lang);
    if (message !== undefined) return usageError('agent', message, lang);
    throw err;
  }
}

// A staged version imported by the launcher gets the launcher's arguments (it may run inside `canh agent`).
main(launcherArgv() ?? process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`canh-agent: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
