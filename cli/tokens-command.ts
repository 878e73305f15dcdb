import { loadCollectorConfig, openCollectorStore, STORE_OPTIONS } from './collector-config.js';
import { parseArgs } from 'node:util';
import { TokenStore } from '../collector/http/api/auth/token-store.js';
import { systemClock } from '../common/clock.js';
import { cliLang, usageError } from './help.js';
import { ROLES, type Role } from '../collector/http/api/api-module.js';
import { ID_PATTERN } from '../contract/topics.js';
import { AuditLog } from '../collector/audit/audit-log.js';
import { cliActor } from './cli-actor.js';

/** `canh tokens …`: API tokens for the REST API and the board (docs/api.md "Auth"). */
export async function runTokensCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      ...STORE_OPTIONS,
      name: { type: 'string' },
      role: { type: 'string' },
      sites: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const [sub, arg] = positionals;
  if (sub !== 'create' && sub !== 'list' && sub !== 'revoke') {
    const lang = cliLang(argv);
    return usageError(
      'tokens',
      sub === undefined
        ? lang === 'vi'
          ? 'thiếu lệnh con (create, list, revoke)'
          : 'missing subcommand (create, list, revoke)'
        : lang === 'vi'
          ? `không có lệnh con "${sub}"`
          : `unknown subcommand: ${sub}`,
      lang,
    );
  }
  const source = { file: values.config, dataDir: values['data-dir'] };
  const config = loadCollectorConfig('tokens', source);
  if (!config) return 2;
  const db = openCollectorStore('tokens', config, source, { create: sub === 'create' });
  if (!db) return 2;
  try {
    const tokens = new TokenStore(db);
    const audit = new AuditLog(db);
    const actor = cliActor();
    const now = systemClock.now();
    switch (sub) {
      case 'create': {
        const name = values.name?.trim();
        if (!name || name.length > 64) {
          process.stderr.write('canh tokens create: --name is required (1-64 characters)\n');
          return 2;
        }
        if (!ROLES.includes(values.role as Role)) {
          process.stderr.write('canh tokens create: --role must be read, operator or admin\n');
          return 2;
        }
        const sites = parseSites(values.sites);
        if (typeof sites === 'string') {
          process.stderr.write(`canh tokens create: ${sites}\n`);
          return 2;
        }
        const t = tokens.create(name, values.role as Role, now, sites);
        audit.record({ ...actor, action: 'token_create', target: `token ${t.id}`, details: { name: t.name, role: t.role, sites: t.sites } }, now);
        if (values.json) process.stdout.write(`${JSON.stringify(t)}\n`);
        else process.stdout.write(`id: ${t.id}\nrole: ${t.role}\nsites: ${t.sites === null ? 'all' : t.sites.join(',')}\ntoken: ${t.token}\n(the token is shown only this once)\n`);
        return 0;
      }
      case 'list': {
        const list = tokens.list();
        if (values.json) process.stdout.write(`${JSON.stringify(list)}\n`);
        else
          for (const t of list) {
            const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());
            process.stdout.write(
              `${t.id}\t${t.role}\tsites=${t.sites === null ? 'all' : t.sites.join(',')}\t${JSON.stringify(t.name)}\t${t.hint}…\tcreated=${iso(t.createdAt)}\tlastUsed=${iso(t.lastUsedAt)}${t.revokedAt !== null ? `\trevoked=${iso(t.revokedAt)}` : ''}\n`,
            );
          }
        return 0;
      }
      case 'revoke': {
        const id = Number(arg);
        if (!arg || !Number.isInteger(id) || id < 1) {
          process.stderr.write('canh tokens revoke ID   (the id from `canh tokens list`)\n');
          return 2;
        }
        if (!tokens.revoke(id, now)) {
          process.stderr.write(`no active token ${id}\n`);
          return 1;
        }
        audit.record({ ...actor, action: 'token_revoke', target: `token ${id}`, details: { name: tokens.get(id)?.name } }, now);
        process.stdout.write(`revoked token ${id}\n`);
        return 0;
      }
    }
  } catch (err) {
    process.stderr.write(`canh tokens: ${(err as Error).message}\n`);
    return 1;
  } finally {
    db.close();
  }
}

/** `--sites a,b` → the site ids; absent or `all` → null (every site); an error message otherwise. */
export function parseSites(arg: string | undefined): string[] | null | string {
  if (arg === undefined || arg.trim() === 'all') return null;
  const sites = arg
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (sites.length === 0) return '--sites needs site ids (xa-a,xa-b) or all';
  const bad = sites.filter((s) => !ID_PATTERN.test(s));
  if (bad.length) return `--sites: not a site id: ${bad.map((s) => JSON.stringify(s)).join(', ')} (lowercase a-z, 0-9, - and _)`;
  return sites;
}
