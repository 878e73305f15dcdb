/**
 * Channel texts from a notification (issue 4 "Messages"): Vietnamese by default, English
 * optional; short; the site, what is wrong, since when, how bad compared with normal, and
 * what to check. Pure: the same message and options always give the same text (a retried
 * or resumed multi-part delivery cuts the same parts).
 */
import type { Language, ParsedNotification, ParsedNotificationAlert } from './notification.js';
import type { RenderedMessage } from './notifier.js';
import type { Digest, OutboxMessage } from './outbox-message.js';
import type { ProvinceDigest, ProvinceSiteCause } from './province-message.js';
import type { ReportMessage } from './report-message.js';

export interface RenderOptions {
  language: Language;
  /** IANA zone for times in the text (default Asia/Ho_Chi_Minh). */
  timeZone: string;
}

interface Words {
  alertTag: string;
  resolvedTag: string;
  testTag: string;
  digestTag: string;
  severity: Record<ParsedNotificationAlert['severity'], string>;
  firing: string;
  resolved: string;
  host: string;
  wholeSite: string;
  since: string;
  between: (from: string, to: string, d: string) => string;
  lasting: string;
  figures: string;
  normal: string;
  limit: string;
  check: string;
  more: (n: number) => string;
  footer: string;
  truncated: (n: number) => string;
  digestTitle: (day: string) => string;
  digestNone: string;
  digestTimes: (n: number) => string;
  digestOngoing: string;
  digestResolvedAt: (t: string) => string;
  duration: (ms: number) => string;
}

const VI: Words = {
  alertTag: '[CẢNH BÁO]',
  resolvedTag: '[ĐÃ KHẮC PHỤC]',
  testTag: '[THỬ]',
  digestTag: '[TỔNG HỢP]',
  severity: { critical: 'NGHIÊM TRỌNG', warning: 'CẢNH BÁO', info: 'THÔNG TIN' },
  firing: 'Đang xảy ra',
  resolved: 'Đã khắc phục',
  host: 'Máy',
  wholeSite: 'Phạm vi: toàn điểm',
  since: 'Từ',
  between: (f, t, d) => `Từ ${f} đến ${t} (kéo dài ${d})`,
  lasting: 'đã',
  figures: 'Số liệu',
  normal: 'bình thường',
  limit: 'ngưỡng',
  check: 'Cần kiểm tra',
  more: (n) => `(+${n})`,
  footer: 'Canh – giám sát điểm phục vụ hành chính công',
  truncated: (n) => `… còn ${n} phần nữa đã được lược bớt; xem đầy đủ trên bảng theo dõi Canh.`,
  digestTitle: (day) => `Tổng hợp cảnh báo ngày ${day}`,
  digestNone: 'Không có cảnh báo nào trong ngày.',
  digestTimes: (n) => `${n} lần`,
  digestOngoing: 'vẫn đang xảy ra',
  digestResolvedAt: (t) => `đã khắc phục lúc ${t}`,
  duration: (ms) => duration(ms, ['ngày', 'giờ', 'phút', 'giây']),
};

const EN: Words = {
  alertTag: '[ALERT]',
  resolvedTag: '[RESOLVED]',
  testTag: '[TEST]',
  digestTag: '[DIGEST]',
  severity: { critical: 'CRITICAL', warning: 'WARNING', info: 'INFO' },
  firing: 'Firing',
  resolved: 'Resolved',
  host: 'Host',
  wholeSite: 'Scope: whole site',
  since: 'Since',
  between: (f, t, d) => `From ${f} to ${t} (lasted ${d})`,
  lasting: 'for',
  figures: 'Figures',
  normal: 'normal',
  limit: 'limit',
  check: 'Check',
  more: (n) => `(+${n})`,
  footer: 'Canh – public-service centre monitoring',
  truncated: (n) => `… ${n} more part(s) left out; see the Canh board for everything.`,
  digestTitle: (day) => `Alert digest for ${day}`,
  digestNone: 'No alerts that day.',
  digestTimes: (n) => `${n}×`,
  digestOngoing: 'still firing',
  digestResolvedAt: (t) => `resolved at ${t}`,
  duration: (ms) => duration(ms, ['d', 'h', 'min', 's']),
};

export function words(lang: Language): Words {
  return lang === 'en' ? EN : VI;
}

const SEVERITY_MARK: Record<ParsedNotificationAlert['severity'], string> = { critical: '🔴', warning: '🟠', info: '🔵' };
const SEVERITY_RANK: Record<ParsedNotificationAlert['severity'], number> = { critical: 0, warning: 1, info: 2 };

function duration(ms: number, [d, h, m, s]: [string, string, string, string]): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3600);
  const mins = Math.floor((total % 3600) / 60);
  if (days) return hours ? `${days} ${d} ${hours} ${h}` : `${days} ${d}`;
  if (hours) return mins ? `${hours} ${h} ${mins} ${m}` : `${hours} ${h}`;
  if (mins) return `${mins} ${m}`;
  return `${total} ${s}`;
}

const timeFormats = new Map<string, Intl.DateTimeFormat>();
/** `HH:mm dd/MM/yyyy` in the zone (the way times are written in Vietnam; also for English). */
export function formatTime(t: number, timeZone: string): string {
  let f = timeFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
    timeFormats.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(t)).map((x) => [x.type, x.value]));
  return `${p.hour}:${p.minute} ${p.day}/${p.month}/${p.year}`;
}

/** `YYYY-MM-DD` of `t` in the zone. */
export function dayOf(t: number, timeZone: string): string {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(new Date(t)).map((x) => [x.type, x.value]),
  );
  return `${p.year}-${p.month}-${p.day}`;
}

const numberFormats: Record<Language, Intl.NumberFormat> = {
  vi: new Intl.NumberFormat('vi-VN', { maximumFractionDigits: 1 }),
  en: new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 }),
};

function num(v: number, unit: string, lang: Language): string {
  const n = numberFormats[lang].format(v);
  if (!unit) return n;
  return unit === '%' ? `${n}%` : `${n} ${unit}`;
}

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

/** Site names a province text lists; the rest are counted ("… và 12 điểm khác"). */
export const PROVINCE_NAMES_SHOWN = 20;

interface ProvinceWords {
  tag: string;
  summaryTag: string;
  updateTag: string;
  title: (down: number, total: number) => string;
  summaryTitle: (back: number, down: number) => string;
  span: (from: string, to: string, down: number, total: number, pct: string) => string;
  causes: string;
  cause: Record<ProvinceSiteCause, string>;
  backSoFar: (back: number, down: number) => string;
  sites: string;
  andMore: (n: number) => string;
  perSite: string;
  board: (url: string | undefined) => string;
  waveOf: (from: string, down: number, total: number) => string;
  allBack: (down: number, median: string, longest: string) => string;
  someBack: (back: number, down: number, median: string, longest: string) => string;
  noneBack: (down: number) => string;
  stillOut: (n: number) => string;
  lastUpdate: string;
}

const PROVINCE_VI: ProvinceWords = {
  tag: '[SỰ CỐ DIỆN RỘNG]',
  summaryTag: '[SỰ CỐ DIỆN RỘNG – TỔNG KẾT]',
  updateTag: '[SỰ CỐ DIỆN RỘNG – CẬP NHẬT]',
  title: (d, t) => `${d}/${t} điểm mất kết nối cùng lúc`,
  summaryTitle: (b, d) => `${b}/${d} điểm đã có kết nối trở lại`,
  span: (f, t, d, n, p) => `${f === t ? `Lúc ${f}` : `Từ ${f} đến ${t}`}, ${d} trong ${n} điểm có máy giám sát (${p}) ngừng gửi dữ liệu.`,
  causes: 'Nguyên nhân đến lúc này',
  cause: { power_cut: 'mất điện', network_cut: 'mất mạng', mixed: 'mất điện và mất mạng', unknown: 'chưa rõ nguyên nhân', pending: 'đang xác định nguyên nhân' },
  backSoFar: (b, d) => `Đã có kết nối trở lại: ${b}/${d} điểm.`,
  sites: 'Các điểm',
  andMore: (n) => `… và ${n} điểm khác`,
  perSite: 'Mỗi điểm vẫn có tin nhắn riêng khi xác định được nguyên nhân và khi khắc phục.',
  board: (url) => (url ? `Xem chi tiết trên bảng theo dõi Canh: ${url}` : 'Xem chi tiết trên bảng theo dõi Canh (trang Tổng quan và Cảnh báo).'),
  waveOf: (f, d, n) => `Đợt sự cố từ ${f}: ${d} trong ${n} điểm mất kết nối.`,
  allBack: (d, m, l) => `Cả ${d} điểm đã có kết nối trở lại, sau ${m} (trung vị), lâu nhất ${l}.`,
  someBack: (b, d, m, l) => `${b}/${d} điểm đã có kết nối trở lại, sau ${m} (trung vị), lâu nhất ${l}.`,
  noneBack: (d) => `Chưa điểm nào trong ${d} điểm có kết nối trở lại.`,
  stillOut: (n) => `Còn ${n} điểm chưa có kết nối`,
  lastUpdate: 'Đây là tin tổng hợp cuối cùng của đợt này.',
};

const PROVINCE_EN: ProvinceWords = {
  tag: '[WIDESPREAD OUTAGE]',
  summaryTag: '[WIDESPREAD OUTAGE – SUMMARY]',
  updateTag: '[WIDESPREAD OUTAGE – UPDATE]',
  title: (d, t) => `${d}/${t} sites offline at once`,
  summaryTitle: (b, d) => `${b}/${d} sites back online`,
  span: (f, t, d, n, p) => `${f === t ? `At ${f}` : `From ${f} to ${t}`}, ${d} of ${n} monitored sites (${p}) stopped reporting.`,
  causes: 'Causes so far',
  cause: { power_cut: 'power cut', network_cut: 'network cut', mixed: 'power and network cut', unknown: 'cause unknown', pending: 'cause being determined' },
  backSoFar: (b, d) => `Back online: ${b}/${d} sites.`,
  sites: 'Sites',
  andMore: (n) => `… and ${n} more`,
  perSite: 'Each site still gets its own messages when its cause is known and when it is back.',
  board: (url) => (url ? `Details on the Canh board: ${url}` : 'Details on the Canh board (Overview and Alerts pages).'),
  waveOf: (f, d, n) => `Outage wave from ${f}: ${d} of ${n} sites went offline.`,
  allBack: (d, m, l) => `All ${d} sites are back online, after ${m} (median), longest ${l}.`,
  someBack: (b, d, m, l) => `${b}/${d} sites are back online, after ${m} (median), longest ${l}.`,
  noneBack: (d) => `None of the ${d} sites is back online yet.`,
  stillOut: (n) => `${n} site${n === 1 ? '' : 's'} still offline`,
  lastUpdate: 'This is the last summary of this wave.',
};

function provinceNames(sites: ProvinceDigest['sites'], total: number, w: ProvinceWords): string {
  const shown = sites.slice(0, PROVINCE_NAMES_SHOWN).map((s) => s.name || s.site);
  const rest = total - shown.length;
  return `${shown.join(', ')}${rest > 0 ? ` ${w.andMore(rest)}` : ''}`;
}

/**
 * A province digest (province-message.ts): how many sites of how many, which, causes so
 * far, the span, a pointer to the board; the summary says how many came back and after how
 * long, and says "all" only when every site of the wave is back.
 */
function renderProvince(d: ProvinceDigest, o: RenderOptions): Omit<RenderedMessage, 'message'> {
  const lang = o.language;
  const w = lang === 'en' ? PROVINCE_EN : PROVINCE_VI;
  const dur = words(lang).duration;
  const causes = (['power_cut', 'network_cut', 'mixed', 'unknown', 'pending'] as const)
    .filter((c) => d.causes[c] > 0 || c === 'power_cut' || c === 'network_cut' || c === 'pending')
    .map((c) => `${w.cause[c]}: ${d.causes[c]}`)
    .join(' · ');
  const paragraphs: string[] = [];
  let subject: string;
  if (d.phase === 'wave') {
    subject = `${w.tag} ${w.title(d.sitesInWave, d.sitesTotal)}`;
    const pct = `${numberFormats[lang].format(d.sitesTotal ? (100 * d.sitesInWave) / d.sitesTotal : 0)}%`;
    paragraphs.push(subject);
    paragraphs.push(
      [
        w.span(formatTime(d.waveStart, o.timeZone), formatTime(d.lastDrop, o.timeZone), d.sitesInWave, d.sitesTotal, pct),
        `${w.causes}: ${causes}`,
        w.backSoFar(d.sitesBack, d.sitesInWave),
      ].join('\n'),
    );
    paragraphs.push(`${w.sites}: ${provinceNames(d.sites, d.sitesInWave, w)}`);
    paragraphs.push(`${w.perSite}\n${w.board(d.boardUrl)}`);
  } else {
    const all = d.sitesBack === d.sitesInWave;
    subject = `${all ? w.summaryTag : w.updateTag} ${w.summaryTitle(d.sitesBack, d.sitesInWave)}`;
    paragraphs.push(subject);
    const m = d.backMedianMs !== null ? dur(d.backMedianMs) : '';
    const l = d.backLongestMs !== null ? dur(d.backLongestMs) : '';
    const lines = [
      w.waveOf(formatTime(d.waveStart, o.timeZone), d.sitesInWave, d.sitesTotal),
      d.sitesBack === 0 ? w.noneBack(d.sitesInWave) : all ? w.allBack(d.sitesInWave, m, l) : w.someBack(d.sitesBack, d.sitesInWave, m, l),
      `${w.causes}: ${causes}`,
    ];
    paragraphs.push(lines.join('\n'));
    if (!all) {
      const out = d.sites.filter((s) => s.backAt === null);
      // Sites beyond the listed ones are counted as still out: never claim more came back than seen.
      paragraphs.push(`${w.stillOut(d.sitesInWave - d.sitesBack)}: ${provinceNames(out, d.sitesInWave - d.sitesBack, w)}`);
    }
    paragraphs.push(`${w.lastUpdate} ${w.perSite}\n${w.board(d.boardUrl)}`);
  }
  paragraphs.push(`— ${words(lang).footer}, ${formatTime(d.createdAt, o.timeZone)}`);
  const html = [
    `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>`,
    `<body style="font-family:Arial,sans-serif;font-size:14px"><h2>${escapeHtml(subject)}</h2>`,
    ...paragraphs.slice(1).map((p) => `<p>${escapeHtml(p).replace(/\n/g, '<br>')}</p>`),
    `</body></html>`,
  ].join('\n');
  return { language: lang, subject, text: paragraphs.join('\n\n'), html };
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

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * Cuts `text` into parts of at most `limit` characters (Unicode code points, the way
 * Zalo counts), between paragraphs where possible, then between lines, then anywhere;
 * each part of several starts with `(i/n) `. Beyond `maxParts`, the last part ends with a
 * note that the rest was left out (summarised rather than flooding the group).
 */
export function splitText(text: string, limit: number, maxParts: number, lang: Language): string[] {
  const len = (s: string): number => [...s].length;
  if (len(text) <= limit) return [text];
  const prefixRoom = 10; // "(12/12) " fits
  const budget = limit - prefixRoom;
  const pieces: string[] = [];
  const pushHard = (s: string): void => {
    const cps = [...s];
    for (let i = 0; i < cps.length; i += budget) pieces.push(cps.slice(i, i + budget).join(''));
  };
  for (const para of text.split('\n\n')) {
    if (len(para) <= budget) {
      pieces.push(para);
      continue;
    }
    let cur = '';
    for (const line of para.split('\n')) {
      if (len(line) > budget) {
        if (cur) pieces.push(cur);
        cur = '';
        pushHard(line);
      } else if (!cur) cur = line;
      else if (len(cur) + 1 + len(line) <= budget) cur += `\n${line}`;
      else {
        pieces.push(cur);
        cur = line;
      }
    }
    if (cur) pieces.push(cur);
  }
  // Pack pieces into parts.
  const parts: string[] = [];
  let cur = '';
  for (const p of pieces) {
    if (!cur) cur = p;
    else if (len(cur) + 2 + len(p) <= budget) cur += `\n\n${p}`;
    else {
      parts.push(cur);
      cur = p;
    }
  }
  if (cur) parts.push(cur);
  let out = parts;
  if (parts.length > maxParts) {
    const note = words(lang).truncated(parts.length - maxParts);
    out = parts.slice(0, maxParts);
    const last = [...out[maxParts - 1]!];
    const room = budget - len(note) - 2;
    out[maxParts - 1] = `${last.length > room ? last.slice(0, room).join('') : last.join('')}\n\n${note}`;
  }
  const n = out.length;
  return n === 1 ? out : out.map((p, i) => `(${i + 1}/${n}) ${p}`);
}
