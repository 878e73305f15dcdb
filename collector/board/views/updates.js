/* Agent updates (issue 16): the rollout and its progress, the published versions, each PC's version and update state. */
import { get } from '../api-client.js';
import { append, clear, el, href, note, table, td } from '../dom.js';
import { session } from '../session.js';
import { t, when } from '../texts.js';
import { baseView, loader, stale } from './view.js';

/** Admins only (the API says 403 to others): the board does not offer it to others. */
export function canSeeUpdates() {
  return !!session.me && session.me.role === 'admin';
}

export function updatesView(root) {
  var v = baseView('updates', root);
  var rollout = el('div', { cls: 'card', id: 'rollout' });
  var hosts = el('div', { cls: 'card', id: 'update-hosts' });
  var releases = el('div', { cls: 'card', id: 'releases' });
  append(root, [el('h1', { text: t('agentUpdates') }), rollout, hosts, releases]);
  if (!canSeeUpdates()) {
    rollout.appendChild(note(t('updatesAdminOnly')));
    return v;
  }
  v.refresh = loader(v, function () {
    return get('api/agent-update').then(function (data) {
      if (stale(v)) return;
      var r = data && data.rollout;
      clear(rollout).appendChild(el('h2', { text: t('rollout') }));
      if (!r) rollout.appendChild(note(t('noRollout')));
      else {
        var stage = function (p) {
          return p.updated + ' / ' + p.total + (p.failed ? ' — ' + p.failed + ' ' + t('upd_failed') : '');
        };
        rollout.appendChild(
          el('dl', { cls: 'kv' }, [
            el('dt', { text: t('rolloutVersion') }),
            el('dd', { id: 'rollout-version', text: r.version + (r.force ? ' — ' + t('rolloutForced') : ' — ' + t('rolloutOffHours')) }),
            el('dt', { text: t('rolloutStage') }),
            el('dd', {
              id: 'rollout-stage',
              cls: r.halted ? 'warn' : '',
              text: r.halted ? t('rolloutHalted') + ': ' + (r.first.failed + r.rest.failed) + ' ' + t('rolloutFailedPcs') : t('rolloutStage' + r.stage),
            }),
            el('dt', { text: t('rolloutFirst') }),
            el('dd', { id: 'rollout-first', text: stage(r.first) }),
            el('dt', { text: t('rolloutRest') }),
            el('dd', { id: 'rollout-rest', text: stage(r.rest) }),
            el('dt', { text: t('since') }),
            el('dd', { text: when(r.startedAt) }),
          ]),
        );
      }
      clear(hosts).appendChild(el('h2', { text: t('versionsPerPc') }));
      var list = (data && data.hosts) || [];
      if (!list.length) hosts.appendChild(note(t('noData')));
      else
        hosts.appendChild(
          table(
            [t('site'), t('host'), t('inv_agent'), t('agentUpdate')],
            list.map(function (h) {
              var rep = h.report;
              var state = rep
                ? (rep.state === 'rolled_back' ? rep.from + ' → ' + rep.version : rep.version) + ' — ' + t('upd_' + rep.state) + (rep.reason ? ': ' + rep.reason : '')
                : '';
              if (h.offer && (!rep || (rep.version !== h.offer.version && rep.from !== h.offer.version))) state = h.offer.version + ' — ' + t('upd_offered');
              return el('tr', { data: { host: h.site + '/' + h.host } }, [
                td(h.site),
                el('td', null, el('a', { href: href('host', h.site, h.host), text: h.hostname || h.host })),
                td(h.agentVersion || t('na')),
                td(state, rep && (rep.state === 'refused' || rep.state === 'rolled_back') ? 'warn' : ''),
              ]);
            }),
            'update-hosts',
          ),
        );
      clear(releases).appendChild(el('h2', { text: t('releases') }));
      var rel = (data && data.releases) || [];
      if (!rel.length) releases.appendChild(note(t('noReleases')));
      else
        releases.appendChild(
          table(
            [t('rolloutVersion'), t('platform'), 'SHA-256', t('since')],
            rel.map(function (x) {
              return el('tr', null, [td(x.version), td(x.platform), td(x.sha256.slice(0, 16) + '…', 'small'), td(when(x.publishedAt))]);
            }),
            'releases',
          ),
        );
    });
  });
  v.refresh();
  return v;
}
