#!/usr/bin/env node
import { VERSION } from '../common/version.js';

// Subcommands are imported on demand: the agent on an old office PC must not load the
// collector's HTTP server, broker and SQLite just to start.

const USAGE = `canh ${VERSION} — monitoring for commune public-service centres

Usage:
  canh up [--data-dir ./data] [--site local]      collector (embedded broker, store, board) + an agent for this PC
  canh collector [--config file.json]             run the collector
  canh agent [--config file.json]                 run the agent
  canh credentials add --site S [--host H]        create agent credentials (password shown once)
  canh credentials add-collector [--username U]   create credentials for a collector on an external broker
  canh credentials list | revoke USERNAME
  canh credentials export-mosquitto --dir DIR [--owner mosquitto]
                                                  write Mosquitto passwd + ACL files
  canh tokens create --name N --role read|admin   API/board token (shown once); tokens list | revoke ID
  canh enroll create --site S [--expires 7d] [--uses N]
                                                  enrolment token + the command to paste on each PC;
                                                  enroll list | revoke ID | machines | approve ID | reject ID
  canh notify test --channel NAME | status        send a test notification (Zalo, email, webhook); outbox state
  canh alerts list [--state active|resolved|all]  alerts in the collector's store
  canh silence add|list|expire                    mute alerts (maintenance), with author and comment
  canh report --site ID|all [--month YYYY-MM] [--format md|html|csv|json] [--lang vi|en] [--out FILE]
                                                  monthly infrastructure report
Options common to all: --config FILE (JSON); environment overrides with
CANH_AGENT__… / CANH_COLLECTOR__… (e.g. CANH_COLLECTOR__HTTP__PORT=8081).
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  // The collector's files hold credential hashes and the local agent's secret.
  if (cmd === 'collector' || cmd === 'credentials' || cmd === 'up' || cmd === 'tokens' || cmd === 'enroll' || cmd === 'alerts' || cmd === 'silence') process.umask(0o077);
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
    case 'notify':
      return (await import('./notify-command.js')).runNotifyCommand(rest);
    case 'up':
      return (await import('./up-command.js')).runUpCommand(rest);
    case 'alerts':
      return (await import('./alerts-command.js')).runAlertsCommand(rest);
    case 'silence':
      return (await import('./alerts-command.js')).runSilenceCommand(rest);
    case 'report':
      return (await import('./report-command.js')).runReportCommand(rest);
    case '--version':
    case 'version':
      process.stdout.write(`${VERSION}\n`);
      return 0;
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(USAGE);
      return cmd === undefined ? 2 : 0;
    default:
      process.stderr.write(`unknown command: ${cmd}\n\n${USAGE}`);
      return 2;
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
        `canh: port ${e.port ?? ''} is already in use (is Canh, or another program, already running?). ` +
          `Choose other ports with CANH_COLLECTOR__HTTP__PORT / CANH_COLLECTOR__BROKER__EMBEDDED__PORT.\n`,
      );
      process.exit(1);
    }
    process.stderr.write(`canh: ${e?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
