import { loadCollectorConfig } from './collector-config.js';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { databaseFile } from '../collector/collector.js';
import { CredentialStore } from '../collector/broker/credentials.js';
import { exportMosquittoFiles } from '../collector/broker/mosquitto-config.js';
import { openDatabase } from '../collector/store/sqlite-store.js';
import { systemClock } from '../common/clock.js';

const HELP = `canh credentials add --site S [--host H] [--rotate] [--password-stdin]
                                         agent credential (per host, or per site without --host)
canh credentials add-collector [--username U] [--rotate] [--password-stdin]
canh credentials list [--json]
canh credentials revoke USERNAME
canh credentials export-mosquitto --dir DIR [--owner USER]
  (all take --config FILE or --data-dir DIR to find the collector's store)
`;

function lookupIds(user: string): { uid: number; gid: number } | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : undefined;
  } catch {
    return undefined;
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function runCredentialsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: 'string', short: 'c' },
      'data-dir': { type: 'string' },
      site: { type: 'string' },
      host: { type: 'string' },
      username: { type: 'string' },
      rotate: { type: 'boolean' },
      json: { type: 'boolean' },
      dir: { type: 'string' },
      owner: { type: 'string' },
      'password-stdin': { type: 'boolean' },
    },
  });
  const [sub, arg] = positionals;
  const config = loadCollectorConfig('credentials', { file: values.config, dataDir: values['data-dir'] });
  if (!config) return 2;
  // A password given by deployment tooling comes on stdin, never on the command line.
  const given = values['password-stdin'] ? (await readStdin()).replace(/\r?\n$/, '') : undefined;
  const db = openDatabase(databaseFile(config));
  const store = new CredentialStore(db);
  store.init();
  const now = systemClock.now();
  try {
    switch (sub) {
      case 'add': {
        if (!values.site) {
          process.stderr.write('canh credentials add: --site is required\n');
          return 2;
        }
        const res = store.add({ site: values.site, ...(values.host ? { host: values.host } : {}), now, rotate: values.rotate ?? false, ...(given ? { password: given } : {}) });
        if (values.json) process.stdout.write(`${JSON.stringify(res)}\n`);
        else
          process.stdout.write(
            `username: ${res.username}\npassword: ${res.password}\n` + `(the password is shown only this once; put it in the agent's config as mqtt.password)\n`,
          );
        return 0;
      }
      case 'add-collector': {
        const res = store.add({
          role: 'collector',
          ...(values.username ? { username: values.username } : {}),
          now,
          rotate: values.rotate ?? false,
          ...(given ? { password: given } : {}),
        });
        if (values.json) process.stdout.write(`${JSON.stringify(res)}\n`);
        else process.stdout.write(`username: ${res.username}\npassword: ${res.password}\n(shown only this once)\n`);
        return 0;
      }
      case 'list': {
        const list = store.list();
        if (values.json) process.stdout.write(`${JSON.stringify(list)}\n`);
        else
          for (const c of list)
            process.stdout.write(
              `${c.username}\t${c.role}\tsite=${c.site}\thost=${c.host ?? '*'}\tcreated=${new Date(c.createdAt).toISOString()}${c.revokedAt ? `\trevoked=${new Date(c.revokedAt).toISOString()}` : ''}\n`,
            );
        return 0;
      }
      case 'revoke': {
        if (!arg) {
          process.stderr.write('canh credentials revoke USERNAME\n');
          return 2;
        }
        if (!store.revoke(arg, now)) {
          process.stderr.write(`no active credential named ${arg}\n`);
          return 1;
        }
        process.stdout.write(`revoked ${arg}\n`);
        return 0;
      }
      case 'export-mosquitto': {
        if (!values.dir) {
          process.stderr.write('canh credentials export-mosquitto: --dir is required\n');
          return 2;
        }
        const ids = values.owner ? lookupIds(values.owner) : undefined;
        if (values.owner && !ids) {
          process.stderr.write(`unknown user ${values.owner}\n`);
          return 2;
        }
        const res = await exportMosquittoFiles(store, values.dir, { ...(ids ?? {}), now });
        process.stdout.write(`wrote ${res.passwordFile} and ${res.aclFile} (${res.users} users); reload Mosquitto (SIGHUP) to apply\n`);
        if (res.siteCredentials.length)
          process.stderr.write(
            `warning: per-site credential(s) ${res.siteCredentials.join(', ')}: Mosquitto binds the client id to the username ` +
              `(use_username_as_clientid), so each connects one PC at a time; give each PC its own credential ` +
              `(canh credentials add --site S --host H)\n`,
          );
        return 0;
      }
      default:
        process.stderr.write(HELP);
        return 2;
    }
  } catch (err) {
    process.stderr.write(`canh credentials: ${(err as Error).message}\n`);
    return 1;
  } finally {
    db.close();
  }
}
