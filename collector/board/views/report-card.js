/* The monthly report card of a site page (issue 7). */
import { el } from '../dom.js';
import { session } from '../session.js';
import { t } from '../texts.js';

/** Monthly report (issue 7): links to the collector's report of a month, opened in a new tab. */
export function reportCard(site) {
  // A list of months, not <input type=month>: Chromium draws that in the browser's
  // language ("November 2026") whatever the board's (issue 13 item 7).
  var d = new Date();
  d.setDate(1);
  var options = [];
  for (var i = 0; i < 24; i++) {
    d.setMonth(d.getMonth() - 1);
    var mm = ('0' + (d.getMonth() + 1)).slice(-2);
    options.push(el('option', { value: d.getFullYear() + '-' + mm, text: t('monthLabel') + (session.lang === 'en' ? d.getFullYear() + '-' + mm : mm + '/' + d.getFullYear()) }));
  }
  var month = el('select', { id: 'report-month', 'aria-label': t('reportMonth') }, options);
  var links = el('p');
  function update() {
    var m = /^\d{4}-\d{2}$/.test(month.value) ? month.value : '';
    links.textContent = '';
    // budget: the cost estimate alone, one row per recommendation (issue 17 point 3).
    ['html', 'csv', 'md', 'budget'].forEach(function (f, i) {
      var q = 'site=' + encodeURIComponent(site) + (m ? '&month=' + m : '') + '&format=' + f + '&lang=' + session.lang;
      if (i) links.appendChild(document.createTextNode(' · '));
      links.appendChild(el('a', { cls: 'report-link', href: 'api/reports?' + q, target: '_blank', rel: 'noopener', text: t('report_' + f) }));
    });
  }
  month.addEventListener('change', update);
  update();
  return el('div', { cls: 'card', id: 'report-card' }, [el('h2', { text: t('monthlyReport') }), el('label', null, [t('reportMonth') + ' ', month]), links]);
}
