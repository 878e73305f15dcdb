/*
 * Texts and number, duration and date formats in the officer's language (i18n.js holds
 * the texts; an unknown key shows as itself).
 */
import { TEXTS } from './i18n.js';
import { session } from './session.js';

export function t(key) {
  var s = TEXTS[session.lang][key];
  return s == null ? key : s;
}
export function locale() {
  return session.lang === 'en' ? 'en-GB' : 'vi-VN';
}
export function num(v, digits) {
  if (v == null || isNaN(v)) return t('na');
  return Number(v).toLocaleString(locale(), { maximumFractionDigits: digits == null ? 1 : digits });
}
export function pct(v) {
  return v == null ? t('na') : num(v, 1) + ' %';
}
export function ms(v) {
  return v == null ? t('na') : num(v, v < 1 ? 2 : 1) + ' ms';
}
export function dur(seconds) {
  if (seconds == null || isNaN(seconds)) return t('na');
  var s = Math.max(0, Math.round(seconds));
  if (s >= 86400) return Math.floor(s / 86400) + t('u_d') + ' ' + Math.floor((s % 86400) / 3600) + t('u_h');
  if (s >= 3600) return Math.floor(s / 3600) + t('u_h') + ' ' + Math.floor((s % 3600) / 60) + t('u_min');
  if (s >= 60) return Math.floor(s / 60) + t('u_min');
  return s + t('u_s');
}
export function ago(tms) {
  if (!tms) return t('na');
  return dur((Date.now() - tms) / 1000) + ' ' + t('ago');
}
export function when(tms) {
  if (!tms) return t('na');
  return new Date(tms).toLocaleString(locale(), { day: '2-digit', month: '2-digit', hour: '2-digit', minute: '2-digit' });
}
/**
 * Sizes in one convention on the whole board (issue 13 item 7): "GB" as Windows shows it,
 * 1 GB = 1024³ bytes, the figure the officer sees in the PC's own properties. The
 * collector's texts (under-spec reasons) use the same.
 */
export function bytes(b) {
  if (b == null) return t('na');
  var u = ['B', 'KB', 'MB', 'GB', 'TB'];
  var i = 0;
  while (b >= 1024 && i < u.length - 1) {
    b /= 1024;
    i++;
  }
  return num(b, 1) + ' ' + u[i];
}
export function levelClass(v, warn, crit) {
  if (v == null) return '';
  return v >= crit ? 'crit' : v >= warn ? 'warn' : '';
}

/** A failed web check's reason from the probe's error code (ENOTFOUND, ETIMEDOUT, a TLS code, `HTTP 503`). */
export function probeReason(p) {
  if (p.reason === 'http' && p.status) return t('pr_http') + ' ' + p.status;
  return t('pr_' + (p.reason || 'other')) + (p.error ? ' (' + p.error + ')' : '');
}

/**
 * A host's state word and class (issue 13 item 7): a PC switched off cleanly is "đã tắt
 * máy", and one offline outside the site's working hours says so, both without the alarm
 * colour of `offline`; `workingNow` is the API's (false outside working hours).
 */
export function hostState(state, stopped, workingNow) {
  if (state === 'offline' && stopped) return { text: t('st_stopped'), cls: 'stopped' };
  if (state === 'offline' && workingNow === false) return { text: t('st_offline') + ' (' + t('offHours') + ')', cls: 'off-hours' };
  return { text: t('st_' + state), cls: state };
}
