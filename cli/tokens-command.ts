import { loadCollectorConfig, openCollectorStore } from './collector-config.js';
import { parseArgs } from 'node:util';
import { TokenStore } from '../collector/http/api/auth/token-store.js';
import { systemClock } from '../common/clock.js';
import { cliLang, usageError } from './help.js';

/** `canh tokens …`: API tokens for the REST API and the board (docs/api.md "Auth"). */
export async function runTokensCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: 'string', short: 'c' },
      'data-dir': { type: 'string' },
      name: { type: 'string' },
      role: { type: 'string' },
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
    const now = systemClock.now();
    switch (sub) {
      case 'create': {
        const name = values.name?.trim();
        if (!name || name.length > 64) {
          process.stderr.write('canh tokens create: --name is required (1-64 characters)\n');
          return 2;
        }
        if (values.role !== 'read' && values.role !== 'admin') {
          process.stderr.write('canh tokens create: --role must be read or admin\n');
          return 2;
        }
        const t = tokens.create(name, values.role, now);
        if (values.json) process.stdout.write(`${JSON.stringify(t)}\n`);
        else process.stdout.write(`id: ${t.id}\nrole: ${t.role}\ntoken: ${t.token}\n(the token is shown only this once)\n`);
        return 0;
      }
      case 'list': {
        const list = tokens.list();
        if (values.json) process.stdout.write(`${JSON.stringify(list)}\n`);
        else
          for (const t of list) {
            const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());
            process.stdout.write(
              `${t.id}\t${t.role}\t${JSON.stringify(t.name)}\t${t.hint}…\tcreated=${iso(t.createdAt)}\tlastUsed=${iso(t.lastUsedAt)}${t.revokedAt !== null ? `\trevoked=${iso(t.revokedAt)}` : ''}\n`,
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
