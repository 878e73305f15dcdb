import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { AgentConfigStore, partProblem, type RemotePart } from '../collector/agentconfig/agent-config-store.js';
import { AuditLog } from '../collector/audit/audit-log.js';
import { systemClock } from '../common/clock.js';
import { ID_PATTERN } from '../contract/topics.js';
import { cliActor } from './cli-actor.js';
import { loadCollectorConfig, openCollectorStore, STORE_OPTIONS } from './collector-config.js';
import { cliLang, usageError } from './help.js';

/**
 * `canh agent-config set|show|clear --site S [--host H]`: the remote agent configuration
 * (issue 16 item 1) kept by the collector. A running collector notices a change within a
 * few seconds and publishes it to the PCs (collector/agentconfig/agent-config-service.ts).
 */
export async function runAgentConfigCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      ...STORE_OPTIONS,
      site: { type: 'string' },
      host: { type: 'string' },
      file: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const lang = cliLang(argv);
  const [sub] = positionals;
  if (sub !== 'set' && sub !== 'show' && sub !== 'clear') {
    return usageError(
      'agent-config',
      sub === undefined
        ? lang === 'vi'
          ? 'thiếu lệnh con (set, show, clear)'
          : 'missing subcommand (set, show, clear)'
        : lang === 'vi'
          ? `không có lệnh con "${sub}"`
          : `unknown subcommand: ${sub}`,
      lang,
    );
  }
  const err = (vi: string, en: string, code = 2): number => {
    process.stderr.write(`canh agent-config ${sub}: ${lang === 'vi' ? vi : en}\n`);
    return code;
  };
  const site = values.site;
  const host = values.host ?? null;
  if (site === undefined || !ID_PATTERN.test(site)) return err('cần --site XA (mã xã: a-z, 0-9, - và _)', 'needs --site S (a site id: a-z, 0-9, - and _)');
  if (host !== null && !ID_PATTERN.test(host)) return err('--host: không phải mã máy hợp lệ', '--host: not a valid host id');
  let part: RemotePart | undefined;
  if (sub === 'set') {
    if (!values.file) return err('cần --file part.json (phần cấu hình, JSON)', 'needs --file part.json (the configuration part, JSON)');
    try {
      part = JSON.parse(readFileSync(values.file, 'utf8')) as RemotePart;
    } catch (e) {
      return err(`không đọc được ${values.file}: ${(e as Error).message}`, `cannot read ${values.file}: ${(e as Error).message}`);
    }
    const problem = partProblem(part);
    if (problem) return err(`cấu hình không hợp lệ: ${problem}`, `invalid configuration: ${problem}`);
  }
  const source = { file: values.config, dataDir: values['data-dir'] };
  const config = loadCollectorConfig('agent-config', source);
  if (!config) return 2;
  const db = openCollectorStore('agent-config', config, source, { create: sub === 'set' });
  if (!db) return 2;
  try {
    const store = new AgentConfigStore(db);
    const now = systemClock.now();
    const target = host ? `agent ${site}/${host}` : `site ${site}`;
    switch (sub) {
      case 'set': {
        const saved = store.set(site, host, part!, cliActor().actor, now);
        new AuditLog(db).record({ ...cliActor(), action: 'agent_config_set', target, details: { keys: Object.keys(part!).join(',') } }, now);
        if (values.json) process.stdout.write(`${JSON.stringify(saved)}\n`);
        else
          process.stdout.write(
            lang === 'vi' ? `đã lưu cấu hình cho ${target}; máy chủ thu thập gửi đi trong vài giây\n` : `saved for ${target}; the collector sends it within seconds\n`,
          );
        return 0;
      }
      case 'show': {
        const out = host
          ? {
              site: store.get(site, null) ?? null,
              host: store.get(site, host) ?? null,
              effective: store.effective(site, host),
              published: store.published(site, host) ?? null,
              report: store.report(site, host) ?? null,
            }
          : { site: store.get(site, null) ?? null, hosts: store.all().filter((s) => s.site === site && s.host !== null) };
        process.stdout.write(`${JSON.stringify(out, null, values.json ? undefined : 2)}\n`);
        return 0;
      }
      case 'clear': {
        if (!store.clear(site, host)) return err(`không có cấu hình cho ${target}`, `no configuration for ${target}`, 1);
        new AuditLog(db).record({ ...cliActor(), action: 'agent_config_clear', target }, now);
        process.stdout.write(lang === 'vi' ? `đã xóa cấu hình của ${target}\n` : `cleared the configuration of ${target}\n`);
        return 0;
      }
    }
  } catch (e) {
    process.stderr.write(`canh agent-config: ${(e as Error).message}\n`);
    return 1;
  } finally {
    db.close();
  }
}
