#!/usr/bin/env node
import { VERSION } from '../common/version.js';

import { cliLang, helpText, langFlag, parseArgsMessage, usageError, wantsHelp, withoutLang } from './help.js';

// Subcommands are imported on demand: the agent on an old office PC must not load the
// collector's HTTP server, broker and SQLite just to start.

const COMMANDS = new Set(['agent', 'collector', 'credentials', 'tokens', 'notify', 'up', 'alerts', 'silence', 'report', 'enroll', 'agent-config', 'release']);
/** Commands with a `--lang` of their own (the language of their output); the others use it for their texts only. */
const OWN_LANG = new Set(['alerts', 'silence', 'report']);

async function main(argv: string[]): Promise<number> {
  const lang = cliLang(argv);
  // `canh --lang en --help`, `canh --lang en up`: the global flag may come first.
  const args = argv[0] === '--lang' || argv[0]?.startsWith('--lang=') ? withoutLang(argv) : argv;
  const [cmd, ...rest0] = args;
  if (cmd === 'help') {
    process.stdout.write(
      helpText(
        rest0.find((a) => !a.startsWith('-')),
        lang,
      ),
    );
    return 0;
  }
  if (cmd === undefined || cmd === '-h' || cmd === '--help') {
    (cmd === undefined ? process.stderr : process.stdout).write(helpText(undefined, lang));
    return cmd === undefined ? 2 : 0;
  }
  if (cmd === '--version' || cmd === 'version') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (!COMMANDS.has(cmd)) return usageError(undefined, lang === 'vi' ? `không có lệnh "${cmd}"` : `unknown command: ${cmd}`, lang);
  // Every command and subcommand answers --help / -h, before any configuration or store is read.
  if (wantsHelp(rest0)) {
    process.stdout.write(helpText(cmd, lang));
    return 0;
  }
  const rest = OWN_LANG.has(cmd) ? rest0 : withoutLang(rest0);
  // The commands' own messages follow a `--lang` given anywhere on the line.
  if (!OWN_LANG.has(cmd) && (langFlag(argv) === 'vi' || langFlag(argv) === 'en')) process.env.CANH_LANG = langFlag(argv);
  try {
    return await run(cmd, rest);
  } catch (err) {
    // A mistyped option is the user's error: a clear line and the usage, exit 2, no stack trace.
    const message = parseArgsMessage(err, lang);
    if (message !== undefined) return usageError(cmd, message, lang);
    throw err;
  }
}

async function run(cmd: string, rest: string[]): Promise<number> {
  // The collector's files hold credential hashes and the local agent's secret.
  if (
    cmd === 'collector' ||
    cmd === 'credentials' ||
    cmd === 'up' ||
    cmd === 'tokens' ||
    cmd === 'enroll' ||
    cmd === 'agent-config' ||
    cmd === 'release' ||
    cmd === 'alerts' ||
    cmd === 'silence'
  )
    process.umask(0o077);
  switch (cmd) {
    case 'agent':
      return (await import('./agent-command.js')).runAgentCommand(rest);
    case 'collector':
      return (await import('./collector-command.js')).runCollectorCommand(rest);
    case 'credentials':
      return (await import('./credentials-command.js')).runCredentialsCommand(rest);
    case 'tokens':
      return (await import('./tokens-command.js')).runTokensCommand(rest);
    case 'enroll':
      return (await import('./enroll-command.js')).runEnrollCommand(rest);
    case 'agent-config':
      return (await import('./agent-config-command.js')).runAgentConfigCommand(rest);
    case 'release':
      return (await import('./release-command.js')).runReleaseCommand(rest);
    case 'notify':
      return (await import('./notify-command.js')).runNotifyCommand(rest);
    case 'up':
      return (await import('./up-command.js')).runUpCommand(rest);
    case 'alerts':
      return (await import('./alerts-command.js')).runAlertsCommand(rest);
    case 'silence':
      return (await import('./alerts-command.js')).runSilenceCommand(rest);
    default:
      return (await import('./report-command.js')).runReportCommand(rest);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== -1) process.exitCode = code;
  },
  (err: unknown) => {
    const e = err as NodeJS.ErrnoException & { port?: number };
    if (e?.code === 'EADDRINUSE') {
      process.stderr.write(
        cliLang(process.argv.slice(2)) === 'vi'
          ? `canh: cổng ${e.port ?? ''} đang được dùng (Canh hoặc một chương trình khác đang chạy?). ` +
              `Chọn cổng khác bằng CANH_COLLECTOR__HTTP__PORT / CANH_COLLECTOR__BROKER__EMBEDDED__PORT.\n`
          : `canh: port ${e.port ?? ''} is already in use (is Canh, or another program, already running?). ` +
              `Choose other ports with CANH_COLLECTOR__HTTP__PORT / CANH_COLLECTOR__BROKER__EMBEDDED__PORT.\n`,
      );
      process.exit(1);
    }
    process.stderr.write(`canh: ${e?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
