/**
 * V8 settings of the stand-alone agent process (dist/agent-bundle/canh-agent.mjs), applied
 * before any other module of the bundle runs: this module is the first import of
 * canh-agent.ts, and ES modules run in import order. Set here rather than on the node
 * command line so that every launcher (systemd unit, Windows service, canh-agent.cmd, a
 * hand-typed `node canh-agent.mjs`) and bench:agent run the agent the same way.
 *
 * `--no-opt`: no optimizing compiler (TurboFan). The agent runs a few milliseconds of
 * JavaScript every sampling interval; no function of it stays hot long enough for optimized
 * code to pay back compiling it, which TurboFan then does again and again as code cools and is
 * flushed. Without it the interpreter and the baseline compiler (Sparkplug) run everything,
 * the compiler's code pages of the node binary are never touched and its zones never
 * allocated: bench:agent measured 3.4 MB less RSS (file-backed) and no CPU change per sample
 * (README, bench:agent). The full CLI (`canh agent`, `canh collector`) keeps V8's defaults.
 */
import { setFlagsFromString } from 'node:v8';

export const AGENT_V8_FLAGS: readonly string[] = ['--no-opt'];

for (const flag of AGENT_V8_FLAGS) setFlagsFromString(flag);
