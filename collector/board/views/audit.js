/* The audit log (issue 14 item 8): who did what, when, from where; for admins of every site, with the CSV export. */
import { get } from '../api-client.js';
import { append, clear, el, note, table, td } from '../dom.js';
import { session } from '../session.js';
import { t, when } from '../texts.js';
import { baseView, loader, stale } from './view.js';

/** Only an admin of every site may read it (the API says 403 to anyone else): the board does not offer it to others. */
export function canSeeAudit() {
  return !!session.me && session.me.role === 'admin' && session.me.sites == null;
}

export function auditView(root) {
  var v = baseView('audit', root);
  var box = el('div', { cls: 'card', id: 'audit' });
  var csv = el('a', { cls: 'act secondary', id: 'audit-csv', href: 'api/audit?format=csv&lang=' + session.lang, download: '', text: t('exportCsv') });
  append(root, [el('h1', { text: t('auditLog') }), el('p', null, csv), box]);
  // The log does not change with the agents' data: no live refresh.
  v.wants = function () {
    return false;
  };
  if (!canSeeAudit()) {
    box.appendChild(note(t('auditAdminOnly')));
    csv.hidden = true;
    return v;
  }
  v.refresh = loader(v, function () {
    return get('api/audit', { limit: 200 }).then(function (data) {
      if (stale(v)) return;
      clear(box);
      var entries = (data && data.entries) || [];
      if (!entries.length) return void box.appendChild(note(t('noData')));
      box.appendChild(
        table(
          [t('time'), t('auditAction'), t('auditActor'), t('auditFrom'), t('auditTarget'), t('auditDetails')],
          entries.map(function (e) {
            return el('tr', { data: { audit: e.id, action: e.action } }, [
              td(when(e.t)),
              td(t('audit_' + e.action) || e.action),
              td(e.actor),
              td((e.client || '') + (e.via ? ' (' + e.via + ')' : '')),
              td(e.target || ''),
              td(e.details ? JSON.stringify(e.details) : '', 'small'),
            ]);
          }),
          'audit',
        ),
      );
    });
  });
  v.refresh();
  return v;
}
