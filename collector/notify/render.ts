/**
 * Channel texts from a notification (issue 4 "Messages"): Vietnamese by default, English
 * optional; short; the site, what is wrong, since when, how bad compared with normal, and
 * what to check. Pure: the same message and options always give the same text (a retried
 * or resumed multi-part delivery cuts the same parts). Alerts, digests and reports here; the
 * province texts in render-province.ts, the words in render-words.ts, Zalo's parts in split-text.ts.
 */
import type { Language, ParsedNotification, ParsedNotificationAlert } from './notification.js';
import type { RenderedMessage } from './notifier.js';
import type { Digest, OutboxMessage } from './outbox-message.js';
import { renderProvince } from './render-province.js';
import { escapeHtml, formatTime, num, SEVERITY_MARK, words, type RenderOptions } from './render-words.js';
import type { ReportMessage } from './report-message.js';

const SEVERITY_RANK: Record<ParsedNotificationAlert['severity'], number> = { critical: 0, warning: 1, info: 2 };

function figures(a: ParsedNotificationAlert, lang: Language): string | undefined {
  if (!a.values.length) return undefined;
  const w = words(lang);
  return a.values
    .map((v) => {
      const extra: string[] = [];
      if (v.normal !== undefined && v.normal !== null) extra.push(`${w.normal} ${num(v.normal, v.unit, lang)}`);
      if (v.limit !== undefined && v.limit !== null) extra.push(`${w.limit} ${num(v.limit, v.unit, lang)}`);
      return `${v.label[lang]} ${num(v.value, v.unit, lang)}${extra.length ? ` (${extra.join(', ')})` : ''}`;
    })
    .join('; ');
}

function sortAlerts(list: ParsedNotificationAlert[]): ParsedNotificationAlert[] {
  return [...list].sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || a.startsAt - b.startsAt || a.fingerprint.localeCompare(b.fingerprint));
}

/** Lines of one alert (a paragraph; Zalo parts are cut between paragraphs). */
function alertLines(a: ParsedNotificationAlert, resolved: boolean, now: number, o: RenderOptions): string[] {
  const w = words(o.language);
  const lang = o.language;
  const lines: string[] = [];
  lines.push(resolved ? `✅ ${w.resolved.toUpperCase()} · ${a.summary[lang]}` : `${SEVERITY_MARK[a.severity]} ${w.severity[a.severity]} · ${a.summary[lang]}`);
  lines.push(a.host ? `${w.host}: ${a.host}` : w.wholeSite);
  if (resolved && a.endsAt !== null) {
    lines.push(w.between(formatTime(a.startsAt, o.timeZone), formatTime(a.endsAt, o.timeZone), w.duration(a.endsAt - a.startsAt)));
  } else {
    lines.push(`${w.since}: ${formatTime(a.startsAt, o.timeZone)} (${w.lasting} ${w.duration(now - a.startsAt)})`);
  }
  const f = figures(a, lang);
  if (f && !resolved) lines.push(`${w.figures}: ${f}`);
  const desc = a.description[lang].trim();
  if (desc && !resolved) lines.push(desc);
  if (a.advice && !resolved && a.advice[lang].trim()) lines.push(`${w.check}: ${a.advice[lang].trim()}`);
  return lines;
}

function siteLabel(n: { site: string; siteName?: string | undefined }): string {
  return n.siteName && n.siteName !== n.site ? `${n.siteName} (${n.site})` : n.site;
}

const SUBJECT_MAX = 180;
function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

function renderNotification(n: ParsedNotification, test: boolean, o: RenderOptions): Omit<RenderedMessage, 'message'> {
  const w = words(o.language);
  const firing = sortAlerts(n.firing);
  const resolved = sortAlerts(n.resolved);
  const lead = firing[0] ?? resolved[0];
  const tag = test ? w.testTag : firing.length ? w.alertTag : w.resolvedTag;
  const others = firing.length + resolved.length - 1;
  const subject = clip(`${tag} ${n.siteName ?? n.site}: ${lead ? lead.summary[o.language] : ''}${others > 0 ? ` ${w.more(others)}` : ''}`.trim(), SUBJECT_MAX);
  const now = n.createdAt;
  const sections: Array<{ title: string; blocks: string[][] }> = [];
  if (firing.length) sections.push({ title: `${w.firing} (${firing.length}):`, blocks: firing.map((a) => alertLines(a, false, now, o)) });
  if (resolved.length) sections.push({ title: `${w.resolved} (${resolved.length}):`, blocks: resolved.map((a) => alertLines(a, true, now, o)) });

  const header = `${tag} ${siteLabel(n)}`;
  const paragraphs: string[] = [header];
  for (const s of sections) {
    paragraphs.push(s.title);
    for (const b of s.blocks) paragraphs.push(b.join('\n'));
  }
  paragraphs.push(`— ${w.footer}, ${formatTime(now, o.timeZone)}`);
  const text = paragraphs.join('\n\n');

  const html = [
    `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>`,
    `<body style="font-family:Arial,sans-serif;font-size:14px">`,
    `<h2 style="margin:0 0 8px">${escapeHtml(header)}</h2>`,
    ...sections.map(
      (s) =>
        `<h3 style="margin:12px 0 4px">${escapeHtml(s.title)}</h3>` +
        s.blocks.map(([first, ...rest]) => `<p style="margin:0 0 10px"><b>${escapeHtml(first!)}</b>${rest.map((l) => `<br>${escapeHtml(l)}`).join('')}</p>`).join(''),
    ),
    `<p style="color:#666;font-size:12px">— ${escapeHtml(w.footer)}, ${escapeHtml(formatTime(now, o.timeZone))}</p>`,
    `</body></html>`,
  ].join('\n');
  return { language: o.language, subject, text, html };
}

function renderDigest(d: Digest, o: RenderOptions): Omit<RenderedMessage, 'message'> {
  const w = words(o.language);
  const [y, m, day] = d.day.split('-');
  const dayText = `${day}/${m}/${y}`;
  const subject = `${w.digestTag} ${w.digestTitle(dayText)}`;
  const paragraphs: string[] = [subject];
  const htmlParts: string[] = [];
  if (!d.sites.length) {
    paragraphs.push(w.digestNone);
    htmlParts.push(`<p>${escapeHtml(w.digestNone)}</p>`);
  }
  for (const s of d.sites) {
    const lines = [`${siteLabel(s)}:`];
    for (const a of s.alerts) {
      const state = a.resolvedAt === null ? w.digestOngoing : w.digestResolvedAt(formatTime(a.resolvedAt, o.timeZone));
      lines.push(
        `${SEVERITY_MARK[a.severity]} ${a.summary[o.language]}${a.host ? ` – ${w.host} ${a.host}` : ''} · ${w.since.toLowerCase()} ${formatTime(a.firstAt, o.timeZone)} · ${w.digestTimes(a.count)} · ${state}`,
      );
    }
    paragraphs.push(lines.join('\n'));
    htmlParts.push(
      `<h3 style="margin:12px 0 4px">${escapeHtml(lines[0]!)}</h3><ul>${lines
        .slice(1)
        .map((l) => `<li>${escapeHtml(l)}</li>`)
        .join('')}</ul>`,
    );
  }
  paragraphs.push(`— ${w.footer}`);
  const html = [
    `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>`,
    `<body style="font-family:Arial,sans-serif;font-size:14px"><h2>${escapeHtml(subject)}</h2>`,
    ...htmlParts,
    `<p style="color:#666;font-size:12px">— ${escapeHtml(w.footer)}</p></body></html>`,
  ].join('\n');
  return { language: o.language, subject, text: paragraphs.join('\n\n'), html };
}

/** UTF-8 byte order mark: Excel reads a CSV as UTF-8 (Vietnamese diacritics) only with it. */
const BOM = '\uFEFF';

/**
 * A monthly report (report-message.ts): it comes rendered in its own language, whatever
 * the channel's. The subject and the HTML report as they are, the summary as the text
 * (Zalo's message, the e-mail's plain-text part), the CSV as an attachment with a BOM.
 */
function renderReport(r: ReportMessage): Omit<RenderedMessage, 'message'> {
  return {
    language: r.language,
    subject: r.subject,
    text: r.summary,
    html: r.html,
    attachments: [{ filename: r.csvFilename, contentType: 'text/csv; charset=utf-8', content: r.csv.startsWith(BOM) ? r.csv : BOM + r.csv }],
  };
}

export function render(message: OutboxMessage, o: RenderOptions): RenderedMessage {
  const r =
    message.kind === 'digest'
      ? renderDigest(message.digest, o)
      : message.kind === 'report'
        ? renderReport(message.report)
        : message.kind === 'province'
          ? renderProvince(message.province, o)
          : renderNotification(message.notification, message.kind === 'test', o);
  return { ...r, message };
}
