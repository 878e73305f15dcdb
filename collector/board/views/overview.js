/* The overview: one tile per site, its hosts online, open incident and worst problem. */
import { get } from '../api-client.js';
import { append, clear, el, href, note } from '../dom.js';
import { session } from '../session.js';
import { ago, dur, t, when } from '../texts.js';
import { baseView, loader, stale } from './view.js';

export function overviewView(root) {
  var v = baseView('overview', root);
  var tiles = el('div', { cls: 'tiles', id: 'tiles' });
  append(root, [el('h1', { text: t('sites') }), tiles]);
  // Samples can change the worst problem (a disk filling up): refresh, at most every 5 s.
  v.minInterval = 5000;
  v.refresh = loader(v, function () {
    return get('api/sites', { lang: session.lang }).then(function (data) {
      if (stale(v)) return;
      clear(tiles);
      var sites = (data && data.sites) || [];
      if (!sites.length) tiles.appendChild(note(t('noSites')));
      sites.forEach(function (s) {
        var worst = s.worst || { level: 'ok', text: '' };
        var inc = s.openIncident;
        // Nothing to act on, yet not every PC running (switched off, or out outside working
        // hours): grey, not the green of "all running" (issue 13 item 7).
        var quiet = worst.level === 'ok' && s.state != null && s.state !== 'online';
        tiles.appendChild(
          el('a', { cls: 'tile ' + worst.level + (quiet ? ' quiet' : ''), href: href('site', s.site), data: { site: s.site } }, [
            el('h3', { cls: 'site-name', text: s.name || s.site }),
            el('p', null, [el('span', { cls: 'big', text: s.hostsOnline + '/' + s.hostsTotal }), ' ', t('hostsOnline')]),
            // "Không có sự cố" only when nothing else is wrong either: beside "Nghiêm trọng: pc-02
            // mất kết nối" it read as "all is well" (issue 13 item 7).
            inc || worst.level === 'ok'
              ? el(
                  'p',
                  { cls: inc ? 'crit incident-line' : 'muted incident-line' },
                  inc
                    ? t('openIncident') +
                        ': ' +
                        t('cause_' + inc.cause) +
                        ', ' +
                        t('since').toLowerCase() +
                        ' ' +
                        when(inc.start) +
                        ' (' +
                        dur((Date.now() - inc.start) / 1000) +
                        ')'
                    : t('noIncident'),
                )
              : null,
            // The state names the problem; the level word alone only when there is none (issue 13 item 7).
            el('p', { cls: 'state' }, [
              el('span', {
                cls: worst.level === 'critical' ? 'crit' : worst.level === 'warning' ? 'warn' : quiet ? 'muted' : 'online',
                text: worst.level !== 'ok' ? t('lvl_' + worst.level) + ': ' + worst.text : worst.text || t('lvl_ok'),
              }),
              // The host id when the text names the PC by another name (its hostname).
              worst.host && worst.level !== 'ok' && worst.text.indexOf(worst.host) < 0 ? ' (' + worst.host + ')' : '',
            ]),
            el('p', { cls: 'muted small' }, t('lastSeen') + ': ' + ago(s.lastSeen)),
          ]),
        );
      });
    });
  });
  v.refresh();
  return v;
}
