/*
 * Live updates: Server-Sent Events from /api/stream, with a polling fallback (an older
 * collector, a proxy that cuts the stream). An update the current view wants refreshes it,
 * at most once per the view's `minInterval`.
 */
import { $ } from './dom.js';
import { session } from './session.js';
import { t } from './texts.js';

var POLL_MS = 15000;

var live = { es: null, errors: 0, poll: null, pending: null, last: 0, dirty: false };

export function setConn(mode) {
  var c = $('conn');
  c.className = 'conn ' + mode;
  c.textContent = mode === 'live' ? t('live') : mode === 'poll' ? t('polling') : mode === 'down' ? t('offlineConn') : '';
  c.setAttribute('data-mode', mode);
}
export function startLive() {
  stopLive();
  if (!window.EventSource) return startPolling();
  var es = new EventSource('api/stream');
  live.es = es;
  es.addEventListener('open', function () {
    live.errors = 0;
    setConn('live');
  });
  es.addEventListener('update', function (e) {
    var d;
    try {
      d = JSON.parse(e.data);
    } catch (err) {
      return;
    }
    if (session.view && session.view.wants(d)) scheduleRefresh();
  });
  es.addEventListener('error', function () {
    live.errors++;
    // A closed stream (404 on an older collector, 401) or one that keeps failing: poll instead.
    if (es.readyState === 2 || live.errors >= 3) {
      es.close();
      live.es = null;
      startPolling();
    } else setConn('down');
  });
}
function startPolling() {
  setConn('poll');
  if (live.poll) return;
  var ticks = 0;
  live.poll = setInterval(function () {
    if (session.view) scheduleRefresh();
    // Try the stream again every 5 minutes (the collector may have been restarting).
    if (++ticks % 20 === 0 && window.EventSource && session.me) startLive();
  }, POLL_MS);
}
export function stopLive() {
  if (live.es) live.es.close();
  live.es = null;
  if (live.poll) clearInterval(live.poll);
  live.poll = null;
  live.errors = 0;
}
/** Refresh the current view, at most once per its `minInterval` (agents may report every second). */
export function scheduleRefresh() {
  // A tab in the background costs the collector (an old office PC) nothing: catch up when shown.
  if (document.hidden) {
    live.dirty = true;
    return;
  }
  if (live.pending) return;
  var wait = Math.max(0, live.last + session.view.minInterval - Date.now());
  live.pending = setTimeout(function () {
    live.pending = null;
    live.last = Date.now();
    if (session.view) session.view.refresh();
  }, wait);
}
/** A new page: no refresh of the old one pending, the new one counts from now. */
export function resetRefresh() {
  if (live.pending) clearTimeout(live.pending);
  live.pending = null;
  live.last = Date.now();
}
/** The tab is shown again: refresh once if updates came while it was hidden. */
export function catchUp() {
  if (!document.hidden && live.dirty && session.view) {
    live.dirty = false;
    scheduleRefresh();
  }
}
