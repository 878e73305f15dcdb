import { loadCollectorConfig, openCollectorStore, STORE_OPTIONS } from './collector-config.js';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { CredentialStore } from '../collector/broker/credentials.js';
import { exportMosquittoFiles } from '../collector/broker/mosquitto-config.js';
import { systemClock } from '../common/clock.js';
import { cliLang, usageError } from './help.js';
import { AuditLog } from '../collector/audit/audit-log.js';
import { cliActor } from './cli-actor.js';

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

const SUBCOMMANDS = ['add', 'add-collector', 'list', 'revoke', 'export-mosquitto'];

export async function runCredentialsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      ...STORE_OPTIONS,
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
  if (sub === undefined || !SUBCOMMANDS.includes(sub)) {
    const lang = cliLang(argv);
    return usageError(
      'credentials',
      sub === undefined
        ? lang === 'vi'
          ? `thiếu lệnh con (${SUBCOMMANDS.join(', ')})`
          : `missing subcommand (${SUBCOMMANDS.join(', ')})`
        : lang === 'vi'
          ? `không có lệnh con "${sub}"`
          : `unknown subcommand: ${sub}`,
      lang,
    );
  }
  const source = { file: values.config, dataDir: values['data-dir'] };
  const config = loadCollectorConfig('credentials', source);
  if (!config) return 2;
  // A password given by deployment tooling comes on stdin, never on the command line.
  const given = values['password-stdin'] ? (await readStdin()).replace(/\r?\n$/, '') : undefined;
  // The first credentials may be made before the collector's first start, in its configured folder.
  const db = openCollectorStore('credentials', config, source, { create: sub === 'add' || sub === 'add-collector' });
  if (!db) return 2;
  const store = new CredentialStore(db);
  store.init();
  const audit = new AuditLog(db);
  const now = systemClock.now();
  // Issue 14 item 8: who added, rotated or revoked which credential (never its password).
  const record = (username: string, before: boolean, details: Record<string, unknown>) =>
    audit.record({ ...cliActor(), action: before ? 'credential_rotate' : 'credential_add', target: username, details }, now);
  const activeBefore = () => new Set(store.list().flatMap((c) => (c.revokedAt === null ? [c.username] : [])));
  try {
    switch (sub) {
      case 'add': {
        if (!values.site) {
          process.stderr.write('canh credentials add: --site is required\n');
          return 2;
        }
        const active = activeBefore();
        const res = store.add({ site: values.site, ...(values.host ? { host: values.host } : {}), now, rotate: values.rotate ?? false, ...(given ? { password: given } : {}) });
        record(res.username, active.has(res.username), { role: 'agent', site: values.site, host: values.host ?? null, passwordGiven: given !== undefined });
        if (values.json) process.stdout.write(`${JSON.stringify(res)}\n`);
        else
          process.stdout.write(
            `username: ${res.username}\npassword: ${res.password}\n` + `(the password is shown only this once; put it in the agent's config as mqtt.password)\n`,
          );
        return 0;
      }
      case 'add-collector': {
        const active = activeBefore();
        const res = store.add({
          role: 'collector',
          ...(values.username ? { username: values.username } : {}),
          now,
          rotate: values.rotate ?? false,
          ...(given ? { password: given } : {}),
        });
        record(res.username, active.has(res.username), { role: 'collector', passwordGiven: given !== undefined });
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
        audit.record({ ...cliActor(), action: 'credential_revoke', target: arg }, now);
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
            `warning: per-site credential(s) ${listSome(res.siteCredentials, 10)}: Mosquitto binds the client id to the username ` +
              `(use_username_as_clientid), so each connects one PC at a time; give each PC its own credential ` +
              `(canh credentials add --site S --host H)\n`,
          );
        return 0;
      }
      default:
        return 2;
    }
  } catch (err) {
    process.stderr.write(`canh credentials: ${(err as Error).message}\n`);
    return 1;
  } finally {
    db.close();
  }
}

/** The first `max` names and how many more (a province can have hundreds). */
export function listSome(names: readonly string[], max: number): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}
