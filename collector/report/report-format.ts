import { localTime } from '../sites/schedule/working-hours.js';
import type { Lang } from './report-model.js';

/**
 * Number, duration and date formatting for the report, written out rather than through
 * Intl number formats so the output is the same byte for byte on every Node/ICU build.
 * Vietnamese: 1.234,5 — 3 giờ 12 phút — 24/11/2026 08:05. English: 1,234.5 — 3 h 12 min —
 * 2026-11-24 08:05.
 */
export function fmtNum(x: number | null, decimals: number, lang: Lang): string {
  if (x === null || !Number.isFinite(x)) return '–';
  const neg = x < 0;
  const fixed = Math.abs(x).toFixed(decimals);
  const [int, frac] = fixed.split('.') as [string, string | undefined];
  const group = lang === 'vi' ? '.' : ',';
  const dec = lang === 'vi' ? ',' : '.';
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, group);
  const s = frac ? `${grouped}${dec}${frac}` : grouped;
  return neg && Number(fixed) !== 0 ? `-${s}` : s;
}

export function fmtPct(x: number | null, lang: Lang, decimals = 1): string {
  return x === null ? '–' : `${fmtNum(x, decimals, lang)}%`;
}

/** Duration rounded to the minute: "3 giờ 12 phút" / "3 h 12 min"; "0 phút" for nothing. */
export function fmtDuration(ms: number, lang: Lang): string {
  const total = Math.round(ms / 60_000);
  const h = Math.floor(total / 60);
  const m = total % 60;
  const H = lang === 'vi' ? 'giờ' : 'h';
  const M = lang === 'vi' ? 'phút' : 'min';
  if (h === 0) return `${m} ${M}`;
  if (m === 0) return `${h} ${H}`;
  return `${h} ${H} ${m} ${M}`;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Local date and time of `t` in `tz`. */
export function fmtDateTime(t: number, tz: string, lang: Lang): string {
  const lt = localTime(t, tz);
  const hm = `${pad(Math.floor(lt.minutes / 60))}:${pad(Math.floor(lt.minutes % 60))}`;
  return lang === 'vi' ? `${pad(lt.day)}/${pad(lt.month)}/${lt.year} ${hm}` : `${lt.date} ${hm}`;
}

/** A local date `YYYY-MM-DD` as shown: 24/11/2026 or 2026-11-24. */
export function fmtDate(date: string, lang: Lang): string {
  if (lang === 'en') return date;
  const [y, m, d] = date.split('-');
  return `${d}/${m}/${y}`;
}

/** `YYYY-MM` as shown: "tháng 11/2026" / "November 2026". */
export function fmtMonth(month: string, lang: Lang): string {
  const [y, m] = month.split('-');
  if (lang === 'vi') return `tháng ${m}/${y}`;
  const names = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
  return `${names[Number(m) - 1]} ${y}`;
}

/** Signed change "+2" / "-1,5" / "0". */
export function fmtDelta(x: number, decimals: number, lang: Lang): string {
  const s = fmtNum(x, decimals, lang);
  return x > 0 && s !== fmtNum(0, decimals, lang) ? `+${s}` : s;
}

/**
 * An amount of đồng as shown (issue 17 point 3): Vietnamese "1.250.000 ₫" (dots between
 * thousands, the đồng sign after a space), English "1,250,000 VND". Whole đồng.
 */
export function fmtVnd(x: number | null, lang: Lang): string {
  if (x === null || !Number.isFinite(x)) return '–';
  return lang === 'vi' ? `${fmtNum(Math.round(x), 0, lang)} ₫` : `${fmtNum(Math.round(x), 0, lang)} VND`;
}
