/**
 * The words, times and numbers of the channel texts (render.ts, render-province.ts,
 * split-text.ts): Vietnamese by default, English optional.
 */
import type { Language, ParsedNotificationAlert } from './notification.js';

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

export const SEVERITY_MARK: Record<ParsedNotificationAlert['severity'], string> = { critical: '🔴', warning: '🟠', info: '🔵' };

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

export const numberFormats: Record<Language, Intl.NumberFormat> = {
  vi: new Intl.NumberFormat('vi-VN', { maximumFractionDigits: 1 }),
  en: new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 }),
};

export function num(v: number, unit: string, lang: Language): string {
  const n = numberFormats[lang].format(v);
  if (!unit) return n;
  return unit === '%' ? `${n}%` : `${n} ${unit}`;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
