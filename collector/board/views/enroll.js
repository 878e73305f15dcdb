/*
 * "Thêm máy tính" (issue 15): an admin makes an enrolment token for a site and gets the one
 * command to paste on each PC (PowerShell as administrator, or bash), sees which agent
 * packages this collector can serve, approves or rejects waiting PCs (approval mode,
 * suspected clones) and revokes tokens. Read-only users see that it needs an admin.
 */
import { api, get, showError } from '../api-client.js';
import { append, clear, el, note, table, td } from '../dom.js';
import { session } from '../session.js';
import { t, when } from '../texts.js';
import { baseView, loader } from './view.js';

/** A read-only box with the command and a copy button. */
function commandBox(id, title, help, command, notBuilt) {
  var area = el('textarea', { id: id, readonly: true, rows: 4, spellcheck: 'false', cls: 'command' });
  area.value = command;
  var copied = el('span', { cls: 'muted small', role: 'status' });
  var button = el('button', { type: 'button', cls: 'act', text: t('en_copy') });
  button.addEventListener('click', function () {
    area.select();
    var done = function () {
      copied.textContent = t('en_copied');
    };
    if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(command).then(done, done);
    else done();
  });
  return el('div', { cls: 'card' }, [
    el('h3', { text: title }),
    el('p', { cls: 'muted small', text: help }),
    notBuilt ? el('p', { cls: 'warn', text: notBuilt }) : null,
    area,
    el('p', null, [button, ' ', copied]),
  ]);
}

export function enrollView(root) {
  var v = baseView('enroll', root);
  var admin = session.me && session.me.role === 'admin';
  append(root, el('h1', { text: t('en_title') }));
  if (!admin) {
    append(root, note(t('en_adminOnly')));
    return v;
  }
  var site = el('input', { id: 'enroll-site', type: 'text', required: true, maxlength: 63, pattern: '[a-z0-9][a-z0-9_\\-]{0,62}', placeholder: 'xa-an-binh' });
  var expires = el('select', { id: 'enroll-expires' }, [
    el('option', { value: '1d', text: t('en_1d') }),
    el('option', { value: '7d', text: t('en_7d'), selected: true }),
    el('option', { value: '30d', text: t('en_30d') }),
  ]);
  var uses = el('input', { id: 'enroll-uses', type: 'number', min: 1, max: 10000, placeholder: t('en_unlimited') });
  var approval = el('input', { id: 'enroll-approval', type: 'checkbox' });
  var submit = el('button', { cls: 'act', type: 'submit', id: 'enroll-create', text: t('en_create') });
  var form = el('form', { cls: 'inline', id: 'enroll-form' }, [
    el('label', null, [t('site'), site]),
    el('label', null, [t('en_expires'), expires]),
    el('label', null, [t('en_uses'), uses]),
    el('label', null, [approval, ' ', t('en_approval')]),
    submit,
  ]);
  var result = el('div', { id: 'enroll-result' });
  var packagesBox = el('div', { cls: 'card', id: 'enroll-packages' });
  var machinesBox = el('div', { cls: 'card', id: 'enroll-machines' });
  var tokensBox = el('div', { cls: 'card', id: 'enroll-tokens' });
  append(root, [
    el('div', { cls: 'card' }, [el('p', { cls: 'muted', text: t('en_intro') }), form]),
    result,
    el('h2', { text: t('en_waiting') }),
    machinesBox,
    el('h2', { text: t('en_tokens') }),
    tokensBox,
    el('h2', { text: t('en_packages') }),
    packagesBox,
  ]);
  var packages = { linux: null, windows: null };

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    submit.disabled = true;
    var body = { site: site.value.trim(), expires: expires.value, requireApproval: approval.checked };
    if (uses.value) body.uses = Number(uses.value);
    api('POST', 'api/enroll/tokens', body)
      .then(function (created) {
        clear(result);
        var nb = function (p) {
          return p && !p.built ? t('en_notBuilt') + ' (' + p.build + ')' : null;
        };
        append(result, [
          el('div', { cls: 'card' }, [
            el('p', null, [t('en_token') + ': ', el('code', { id: 'enroll-token', text: created.token })]),
            el('p', { cls: 'muted small', text: t('en_once') }),
          ]),
          commandBox('enroll-windows', t('en_windows'), t('en_windowsHelp'), created.commands.windows, nb(packages.windows)),
          commandBox('enroll-linux', t('en_linux'), t('en_linuxHelp'), created.commands.linux, nb(packages.linux)),
        ]);
        return refresh();
      })
      .catch(showError)
      .then(function () {
        submit.disabled = false;
      });
  });

  function decide(id, action) {
    return function () {
      api('POST', 'api/enroll/machines/' + id + '/' + action, {})
        .then(refresh)
        .catch(showError);
    };
  }
  function revoke(id) {
    return function () {
      api('DELETE', 'api/enroll/tokens/' + id)
        .then(refresh)
        .catch(showError);
    };
  }

  var refresh = loader(v, function () {
    return Promise.all([get('api/enroll/machines'), get('api/enroll/tokens'), get('install/')]).then(function (r) {
      var waiting = r[0].machines.filter(function (m) {
        return m.status === 'pending' || m.status === 'clone';
      });
      clear(machinesBox);
      if (!waiting.length) append(machinesBox, note(t('en_noneWaiting')));
      else
        append(
          machinesBox,
          table(
            [t('site'), t('en_hostname'), t('en_why'), t('en_from'), t('en_when'), ''],
            waiting.map(function (m) {
              return el('tr', { data: { machine: m.id } }, [
                td(m.site),
                td(m.hostname),
                td(m.status === 'clone' ? t('en_clone') + ' #' + m.cloneOf : t('en_pending')),
                td(m.address),
                td(when(m.updatedAt)),
                el('td', null, [
                  el('button', { type: 'button', cls: 'act', text: t('en_approve'), on: { click: decide(m.id, 'approve') } }),
                  ' ',
                  el('button', { type: 'button', text: t('en_reject'), on: { click: decide(m.id, 'reject') } }),
                ]),
              ]);
            }),
          ),
        );
      clear(tokensBox);
      var tokens = r[1].tokens.slice().reverse();
      if (!tokens.length) append(tokensBox, note(t('en_noTokens')));
      else
        append(
          tokensBox,
          table(
            [t('site'), t('en_token'), t('en_uses'), t('en_expires'), ''],
            tokens.map(function (k) {
              var dead = k.revokedAt != null ? t('en_revoked') : k.expiresAt <= Date.now() ? t('en_expired') : null;
              return el('tr', { data: { token: k.id } }, [
                td(k.site),
                td(k.hint + '…'),
                td(k.uses + ' / ' + (k.maxUses == null ? '∞' : k.maxUses)),
                td(dead || when(k.expiresAt)),
                el('td', null, dead ? null : el('button', { type: 'button', text: t('en_revoke'), on: { click: revoke(k.id) } })),
              ]);
            }),
          ),
        );
      clear(packagesBox);
      r[2].packages.forEach(function (p) {
        packages[p.kind] = p;
      });
      append(
        packagesBox,
        table(
          [t('en_package'), t('en_state'), 'SHA-256'],
          r[2].packages.map(function (p) {
            return el('tr', null, [td(p.file), td(p.built ? t('en_built') : t('en_notBuilt'), p.built ? '' : 'warn'), td(p.built ? p.sha256 : p.build, 'mono small')]);
          }),
        ),
      );
    });
  });
  v.refresh = refresh;
  v.wants = function () {
    return false;
  };
  refresh();
  return v;
}
