/* Active alerts and silences; an operator or admin creates and expires silences here (of its own sites when its token is scoped). */
import { api, optional, showError } from '../api-client.js';
import { append, banner, clear, el, note, table, td } from '../dom.js';
import { TEXTS } from '../i18n.js';
import { session } from '../session.js';
import { t, when } from '../texts.js';
import { baseView, loader, RANGES, stale } from './view.js';

/**
 * The collector's alert rules, from GET /api/rules (loaded once per page); a rule seen in an
 * alert but not listed there is added when an officer silences it.
 */
var RULES = [];
/** Each listed rule's description in both languages, by id. */
var ruleTexts = {};
var rulesLoaded = false;

/** A rule's name in the officer's language: the board's short name, else the collector's description, else the raw id. */
function ruleLabel(r) {
  var s = TEXTS[session.lang]['rule_' + r];
  if (s == null && ruleTexts[r]) s = ruleTexts[r][session.lang];
  return s == null ? String(r) : s;
}

export function alertsView(root) {
  var v = baseView('alerts', root);
  // Issue 14 item 7: operators silence too; a token scoped to some sites must name one of them.
  var admin = !!session.me && (session.me.role === 'operator' || session.me.role === 'admin');
  var scoped = !!session.me && Array.isArray(session.me.sites);
  var alertsBox = el('div', { cls: 'card', id: 'alerts' });
  var silencesBox = el('div', { cls: 'card', id: 'silences' });
  var formBox = el('div', { cls: 'card' });
  append(root, [el('h1', { text: t('activeAlerts') }), alertsBox, el('h2', { text: t('silences') }), formBox, silencesBox]);
  v.wants = function (d) {
    return d.kind === 'alert' || d.kind === 'incident' || d.kind === 'status';
  };
  var siteSelect = el('select', { id: 'silence-site' });
  var hostInput = el('input', { id: 'silence-host', type: 'text', maxlength: 64, placeholder: t('anyValue') });
  var ruleInput = el(
    'select',
    { id: 'silence-rule' },
    [el('option', { value: '', text: t('anyValue') })].concat(
      RULES.map(function (r) {
        return el('option', { value: r, text: ruleLabel(r) });
      }),
    ),
  );
  function addRule(r) {
    if (!r || RULES.indexOf(r) >= 0) return;
    RULES.push(r);
    ruleInput.appendChild(el('option', { value: r, text: ruleLabel(r) }));
  }
  var durSelect = el('select', { id: 'silence-duration' }, [
    el('option', { value: String(RANGES['1h']), text: t('r_1h') }),
    el('option', { value: String(4 * 3600e3), text: '4' + t('u_h') }),
    el('option', { value: String(RANGES['24h']), text: t('r_24h') }),
    el('option', { value: String(RANGES['7d']), text: t('r_7d') }),
  ]);
  var comment = el('input', { id: 'silence-comment', type: 'text', maxlength: 500, required: true });
  var submit = el('button', { cls: 'act', type: 'submit', id: 'silence-create', text: t('create') });
  var form = el('form', { cls: 'inline', id: 'silence-form' }, [
    el('label', null, [t('site'), siteSelect]),
    el('label', null, [t('host'), hostInput]),
    el('label', null, [t('rule'), ruleInput]),
    el('label', null, [t('durationLabel'), durSelect]),
    el('label', null, [t('comment'), comment]),
    submit,
  ]);
  if (admin) append(formBox, [el('h3', { text: t('newSilence') }), form]);
  else formBox.appendChild(note(t('adminOnly')));
  var sitesLoaded = false;

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    if (!comment.value.trim()) {
      banner(t('commentNeeded'));
      return;
    }
    var matchers = {};
    if (siteSelect.value) matchers.site = siteSelect.value;
    if (hostInput.value.trim()) matchers.host = hostInput.value.trim();
    if (ruleInput.value) matchers.rule = ruleInput.value;
    submit.disabled = true;
    api('POST', 'api/silences', { matchers: matchers, endsAt: Date.now() + Number(durSelect.value), comment: comment.value.trim() })
      .then(function () {
        comment.value = '';
        banner(t('silenceCreated'), true);
        return v.refresh();
      })
      .catch(showError)
      .then(function () {
        submit.disabled = false;
      });
  });

  function prefill(a) {
    if (a.site) siteSelect.value = a.site;
    hostInput.value = a.host || '';
    addRule(a.rule);
    ruleInput.value = a.rule || '';
    comment.focus();
  }

  v.refresh = loader(v, function () {
    return Promise.all([
      optional('api/alerts', { state: 'active', limit: 200, lang: session.lang }),
      optional('api/silences'),
      sitesLoaded ? null : optional('api/sites'),
      rulesLoaded ? null : optional('api/rules'),
    ]).then(function (r) {
      if (stale(v)) return;
      if (r[3]) {
        rulesLoaded = true;
        (r[3].rules || []).forEach(function (rule) {
          ruleTexts[rule.id] = rule.description;
          addRule(rule.id);
        });
      }
      if (r[2]) {
        sitesLoaded = true;
        clear(siteSelect);
        if (!scoped) siteSelect.appendChild(el('option', { value: '', text: t('anyValue') }));
        (r[2].sites || []).forEach(function (s) {
          siteSelect.appendChild(el('option', { value: s.site, text: s.name && s.name !== s.site ? s.name + ' (' + s.site + ')' : s.site }));
        });
      }
      renderAlerts(r[0]);
      renderSilences(r[1]);
    });
  });

  function renderAlerts(data) {
    clear(alertsBox);
    if (!data) return void alertsBox.appendChild(note(t('notAvailable')));
    var alerts = data.alerts || [];
    if (!alerts.length) return void alertsBox.appendChild(note(t('noAlerts')));
    alertsBox.appendChild(
      table(
        [t('severity'), t('summary'), t('site'), t('host'), t('since'), t('state'), t('actions')],
        alerts.map(function (a) {
          return el('tr', { data: { alert: a.id } }, [
            td(t('sev_' + a.severity), a.severity === 'critical' ? 'crit' : a.severity === 'warning' ? 'warn' : ''),
            el('td', null, [a.summary || ruleLabel(a.rule), el('div', { cls: 'muted small', text: ruleLabel(a.rule) })]),
            td(a.site),
            td(a.host || t('na')),
            td(when(a.startsAt)),
            el('td', null, [t('al_' + a.state), a.silenced ? el('span', { cls: 'badge', text: t('silenced') }) : null]),
            el(
              'td',
              null,
              admin && !a.silenced
                ? el('button', {
                    cls: 'act secondary',
                    type: 'button',
                    text: t('silence'),
                    on: {
                      click: function () {
                        prefill(a);
                      },
                    },
                  })
                : null,
            ),
          ]);
        }),
        'alerts',
      ),
    );
  }

  function renderSilences(data) {
    clear(silencesBox);
    if (!data) {
      silencesBox.appendChild(note(t('notAvailable')));
      formBox.hidden = true;
      return;
    }
    formBox.hidden = false;
    var list = data.silences || [];
    if (!list.length) return void silencesBox.appendChild(note(t('noSilences')));
    silencesBox.appendChild(
      table(
        [t('matchers'), t('state'), t('ends'), t('author'), t('comment'), t('actions')],
        list.map(function (s) {
          var m = s.matchers || {};
          var desc =
            ['site', 'host', 'rule']
              .filter(function (k) {
                return m[k];
              })
              .map(function (k) {
                return t(k) + ' = ' + (k === 'rule' ? ruleLabel(m[k]) : m[k]);
              })
              .join(', ') || t('anyValue');
          return el('tr', { data: { silence: s.id, state: s.state } }, [
            td(desc),
            td(t('si_' + s.state), s.state === 'active' ? 'online' : 'muted'),
            td(when(s.endsAt)),
            td(s.author || ''),
            td(s.comment || ''),
            el(
              'td',
              null,
              admin && s.state !== 'expired'
                ? el('button', {
                    cls: 'act secondary expire',
                    type: 'button',
                    text: t('expire'),
                    on: {
                      click: function (e) {
                        e.target.disabled = true;
                        api('DELETE', 'api/silences/' + encodeURIComponent(s.id))
                          .then(function () {
                            banner(t('silenceExpired'), true);
                            return v.refresh();
                          })
                          .catch(showError);
                      },
                    },
                  })
                : null,
            ),
          ]);
        }),
        'silences',
      ),
    );
  }

  v.refresh();
  return v;
}
