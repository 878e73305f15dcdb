import { loadCollectorConfig, openCollectorStore } from './collector-config.js';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { AlertStore } from '../collector/alerting/alert-store.js';
import { RULE_NAMES } from '../collector/alerting/alerting-config.js';
import { clockText } from '../collector/alerting/messages.js';
import { silenceStatus } from '../collector/alerting/silences.js';
import { systemClock } from '../common/clock.js';
import { ID_PATTERN } from '../contract/topics.js';
import { cliLang, usageError } from './help.js';

/**
 * `canh alerts list` and `canh silence add|list|expire` (issue 4), on the collector's
 * store (like `canh credentials`): the running collector reads silences at every
 * evaluation, so a silence added here applies within seconds.
 */

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  'data-dir': { type: 'string' },
  state: { type: 'string' },
  site: { type: 'string' },
  host: { type: 'string' },
  rule: { type: 'string' },
  limit: { type: 'string' },
  lang: { type: 'string' },
  json: { type: 'boolean' },
  all: { type: 'boolean' },
  for: { type: 'string' },
  until: { type: 'string' },
  starts: { type: 'string' },
  comment: { type: 'string' },
  author: { type: 'string' },
} as const;

/** `90m`, `2h`, `1d`, `1h30m` → ms; undefined when not a duration. */
export function parseDuration(s: string): number | undefined {
  const re = /\s*(\d+(?:\.\d+)?)\s*(d|h|min|m|s)/gy;
  let total = 0;
  let matched = 0;
  for (const m of s.trim().matchAll(re)) {
    const n = Number(m[1]);
    total += n * (m[2] === 'd' ? 86_400_000 : m[2] === 'h' ? 3_600_000 : m[2] === 's' ? 1000 : 60_000);
    matched += m[0].length;
  }
  return matched === s.trim().length && total > 0 ? total : undefined;
}

function openStore(program: string, values: { config?: string | undefined; 'data-dir'?: string | undefined }, create = false) {
  const source = { file: values.config, dataDir: values['data-dir'] };
  const config = loadCollectorConfig(program, source);
  if (!config) return undefined;
  const db = openCollectorStore(program, config, source, { create });
  if (!db) return undefined;
  return { db, store: new AlertStore(db) };
}

export async function runAlertsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: OPTIONS });
  if (positionals[0] !== 'list') {
    const lang = cliLang(argv);
    return usageError(
      'alerts',
      positionals[0] === undefined
        ? lang === 'vi'
          ? 'thiếu lệnh con (list)'
          : 'missing subcommand (list)'
        : lang === 'vi'
          ? `không có lệnh con "${positionals[0]}"`
          : `unknown subcommand: ${positionals[0]}`,
      lang,
    );
  }
  const state = values.state ?? 'active';
  if (state !== 'active' && state !== 'resolved' && state !== 'all') {
    process.stderr.write(`--state must be active, resolved or all\n`);
    return 2;
  }
  const limit = Number(values.limit ?? 100);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    process.stderr.write(`--limit must be 1..1000\n`);
    return 2;
  }
  const lang = values.lang === 'en' ? 'en' : 'vi';
  const opened = openStore('alerts', values);
  if (!opened) return 2;
  try {
    const { alerts } = opened.store.listAlerts({ state, site: values.site, limit }, lang);
    if (values.json) {
      process.stdout.write(`${JSON.stringify(alerts)}\n`);
      return 0;
    }
    if (!alerts.length) process.stdout.write(lang === 'vi' ? 'Không có cảnh báo.\n' : 'No alerts.\n');
    for (const a of alerts) {
      const flags = [a.silenced ? 'silenced' : '', a.inhibited ? 'inhibited' : '', a.flapping ? 'flapping' : ''].filter(Boolean).join(',');
      const when = `${clockText(a.startsAt)}${a.endsAt !== null ? ` → ${clockText(a.endsAt)}` : ''}`;
      process.stdout.write(`#${a.id}\t${a.state}\t${a.severity}\t${a.site}${a.host ? `/${a.host}` : ''}\t${a.rule}\t${when}${flags ? `\t[${flags}]` : ''}\n\t${a.summary}\n`);
    }
    return 0;
  } finally {
    opened.db.close();
  }
}

export async function runSilenceCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: OPTIONS });
  const [sub, arg] = positionals;
  if (sub !== 'add' && sub !== 'list' && sub !== 'expire') {
    const lang = cliLang(argv);
    return usageError(
      'silence',
      sub === undefined
        ? lang === 'vi'
          ? 'thiếu lệnh con (add, list, expire)'
          : 'missing subcommand (add, list, expire)'
        : lang === 'vi'
          ? `không có lệnh con "${sub}"`
          : `unknown subcommand: ${sub}`,
      lang,
    );
  }
  const now = systemClock.now();
  // Validate everything before touching the store; report every problem at once.
  const problems: string[] = [];
  let add: { matchers: { rule?: string; site?: string; host?: string }; startsAt: number; endsAt: number; comment: string; author: string } | undefined;
  if (sub === 'add') {
    const matchers: { rule?: string; site?: string; host?: string } = {};
    if (values.site !== undefined) {
      if (!ID_PATTERN.test(values.site)) problems.push('--site: must be a lowercase slug [a-z0-9_-]');
      matchers.site = values.site;
    }
    if (values.host !== undefined) {
      if (!ID_PATTERN.test(values.host)) problems.push('--host: must be a lowercase slug [a-z0-9_-]');
      matchers.host = values.host;
    }
    if (values.rule !== undefined) {
      if (!RULE_NAMES.includes(values.rule)) problems.push(`--rule: unknown rule "${values.rule}" (one of ${RULE_NAMES.join(', ')})`);
      matchers.rule = values.rule;
    }
    if (!Object.keys(matchers).length) problems.push('give at least one of --site, --host, --rule (a silence of everything is refused)');
    const startsAt = values.starts !== undefined ? Date.parse(values.starts) : now;
    if (Number.isNaN(startsAt)) problems.push('--starts: not a date-time (e.g. 2026-11-24T13:30+07:00)');
    let endsAt = Number.NaN;
    if (values.for !== undefined) {
      const d = parseDuration(values.for);
      if (d === undefined) problems.push('--for: not a duration (e.g. 90m, 2h, 1d)');
      else endsAt = startsAt + d;
    } else if (values.until !== undefined) {
      endsAt = Date.parse(values.until);
      if (Number.isNaN(endsAt)) problems.push('--until: not a date-time (e.g. 2026-11-24T17:00+07:00)');
    } else problems.push('give --for or --until');
    if (!Number.isNaN(endsAt) && !Number.isNaN(startsAt)) {
      if (endsAt <= startsAt) problems.push('--until: must be after the start');
      else if (endsAt <= now) problems.push('--until: must be in the future');
      else if (endsAt - startsAt > 90 * 86_400_000) problems.push('--for: at most 90 days');
    }
    const comment = values.comment?.trim() ?? '';
    if (!comment) problems.push('--comment: say why (shown to the other officers)');
    const author = (values.author ?? userInfo().username).slice(0, 100);
    add = { matchers, startsAt, endsAt, comment, author };
  }
  if (sub === 'expire' && !/^\d+$/.test(arg ?? '')) problems.push('canh silence expire ID (a number from `canh silence list`)');
  if (problems.length) {
    for (const p of problems) process.stderr.write(`canh silence ${sub}: ${p}\n`);
    return 2;
  }
  // A maintenance silence may be planned before the collector's first start, in its configured folder.
  const opened = openStore('silence', values, sub === 'add');
  if (!opened) return 2;
  try {
    if (sub === 'add') {
      const id = opened.store.addSilence(add!, now);
      process.stdout.write(values.json ? `${JSON.stringify({ id })}\n` : `silence #${id} until ${clockText(add!.endsAt)} (Asia/Ho_Chi_Minh)\n`);
      return 0;
    }
    if (sub === 'expire') {
      if (!opened.store.expireSilence(Number(arg), now)) {
        process.stderr.write(`no silence #${arg}\n`);
        return 1;
      }
      process.stdout.write(`silence #${arg} expired\n`);
      return 0;
    }
    const list = opened.store.silences({ since: values.all ? -1 : now }).map((s) => ({ ...s, id: Number(s.id), state: silenceStatus(s, now) }));
    if (values.json) {
      process.stdout.write(`${JSON.stringify(list)}\n`);
      return 0;
    }
    if (!list.length) process.stdout.write('no silences\n');
    for (const s of list) {
      const m = Object.entries(s.matchers)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ');
      process.stdout.write(`#${s.id}\t${s.state}\t${m}\t${clockText(s.startsAt)} → ${clockText(s.endsAt)}\t${s.author}\t${s.comment}\n`);
    }
    return 0;
  } finally {
    opened.db.close();
  }
}
