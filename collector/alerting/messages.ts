import { localTime } from '../sites/schedule/working-hours.js';
import type { Lang, Localized, Notification, NotifiedAlert } from './alert-types.js';

/**
 * Notification texts (issue 4 "Messages"): Vietnamese by default with correct diacritics,
 * English optional; short: the site, what, since when, how bad vs normal, what to check.
 * Figures come from the rules' observations (real data). Times in the site's zone.
 */

export const ZONE = 'Asia/Ho_Chi_Minh';

/** `08:12 24/11` (local). */
export function clockText(t: number, tz = ZONE): string {
  const lt = localTime(t, tz);
  const hh = String(Math.floor(lt.minutes / 60)).padStart(2, '0');
  const mm = String(Math.floor(lt.minutes % 60)).padStart(2, '0');
  return `${hh}:${mm} ${String(lt.day).padStart(2, '0')}/${String(lt.month).padStart(2, '0')}`;
}

/** `1 giờ 5 phút` / `1 h 5 min`; at least `1 phút`. */
export function durationText(ms: number, lang: Lang): string {
  const totalMin = Math.max(1, Math.round(ms / 60_000));
  const d = Math.floor(totalMin / 1440);
  const h = Math.floor((totalMin % 1440) / 60);
  const m = totalMin % 60;
  const parts: string[] = [];
  if (lang === 'vi') {
    if (d) parts.push(`${d} ngày`);
    if (h) parts.push(`${h} giờ`);
    if (m && !d) parts.push(`${m} phút`);
  } else {
    if (d) parts.push(`${d} d`);
    if (h) parts.push(`${h} h`);
    if (m && !d) parts.push(`${m} min`);
  }
  return parts.join(' ') || (lang === 'vi' ? '1 phút' : '1 min');
}

/** `08:14` (local), for a span inside one message: `08:14–08:16`. */
export function hhmm(t: number, tz = ZONE): string {
  const lt = localTime(t, tz);
  return `${String(Math.floor(lt.minutes / 60)).padStart(2, '0')}:${String(Math.floor(lt.minutes % 60)).padStart(2, '0')}`;
}

/** `2 phút 30 giây` / `2 min 30 s`; hours and minutes past an hour; seconds under a minute. */
export function exactDurationText(ms: number, lang: Lang): string {
  const total = Math.max(0, Math.round(ms / 1000));
  if (total >= 3600) return durationText(total * 1000, lang);
  const m = Math.floor(total / 60);
  const sec = total % 60;
  const parts: string[] = [];
  if (m) parts.push(lang === 'vi' ? `${m} phút` : `${m} min`);
  if (sec || !m) parts.push(lang === 'vi' ? `${sec} giây` : `${sec} s`);
  return parts.join(' ');
}

/** Number with at most one decimal, Vietnamese decimal comma. */
export function num(x: number, lang: Lang, digits = 1): string {
  const r = Number(x.toFixed(digits));
  const s = String(r);
  return lang === 'vi' ? s.replace('.', ',') : s;
}

export function both(f: (lang: Lang) => string): Localized {
  return { vi: f('vi'), en: f('en') };
}

const L = {
  vi: {
    alert: 'CẢNH BÁO',
    resolved: 'ĐÃ KHẮC PHỤC',
    repeat: 'NHẮC LẠI',
    problems: (n: number) => `${n} vấn đề`,
    since: 'từ',
    lasted: 'kéo dài',
    check: 'Kiểm tra',
    stillOpen: 'Vẫn còn',
    fixed: 'Đã hết',
    newMark: 'MỚI',
  },
  en: {
    alert: 'ALERT',
    resolved: 'RESOLVED',
    repeat: 'REMINDER',
    problems: (n: number) => `${n} problem${n === 1 ? '' : 's'}`,
    since: 'since',
    lasted: 'lasted',
    check: 'Check',
    stillOpen: 'Still open',
    fixed: 'Cleared',
    newMark: 'NEW',
  },
} as const;

function firingLine(a: NotifiedAlert, lang: Lang, showNew: boolean): string {
  const where = a.host ? `${a.host}: ` : '';
  const mark = showNew && a.isNew ? `[${L[lang].newMark}] ` : '';
  return `• ${mark}${where}${a.summary[lang]} (${L[lang].since} ${clockText(a.startsAt)}). ${L[lang].check}: ${a.hint[lang]}`;
}

function resolvedLine(a: NotifiedAlert, lang: Lang): string {
  const where = a.host ? `${a.host}: ` : '';
  if (a.summary.timed) return `• ${where}${a.summary[lang]}`;
  const lasted = a.endsAt !== null ? `, ${L[lang].lasted} ${durationText(a.endsAt - a.startsAt, lang)}` : '';
  return `• ${where}${a.summary[lang]} (${clockText(a.startsAt)} → ${a.endsAt !== null ? clockText(a.endsAt) : '?'}${lasted})`;
}

/** Title and body of a site notification, in one language. */
export function renderNotification(n: Pick<Notification, 'siteName' | 'kind' | 'firing' | 'resolved'>, lang: Lang): { title: string; text: string } {
  const l = L[lang];
  const tag = n.kind === 'repeat' ? l.repeat : n.kind === 'resolved' ? l.resolved : l.alert;
  const count = n.kind === 'resolved' ? n.resolved.length : n.firing.length;
  const title = `[${tag}] ${n.siteName}: ${l.problems(count)}`;
  const lines: string[] = [title];
  const anyOld = n.firing.some((a) => !a.isNew);
  if (n.firing.length) {
    if (n.kind === 'resolved') lines.push(`${l.stillOpen}:`);
    for (const a of n.firing) lines.push(firingLine(a, lang, n.kind === 'alert' && anyOld));
  }
  if (n.resolved.length) {
    if (n.kind !== 'resolved') lines.push(`${l.fixed}:`);
    for (const a of n.resolved) lines.push(resolvedLine(a, lang));
  }
  return { title, text: lines.join('\n') };
}
