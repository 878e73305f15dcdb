#!/usr/bin/env node
/**
 * Entry point of the stand-alone agent build (`dist/agent-bundle/canh-agent.mjs`,
 * bundled by scripts/bundle-agent.mjs): what office PCs run, without the collector's
 * code and dependencies. `canh agent` runs the same command from the full CLI.
 */
import { runAgentCommand } from './agent-command.js';

runAgentCommand(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`canh-agent: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
