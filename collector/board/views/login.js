/* The login page: an API token (docs/api.md "Auth"), exchanged for a session cookie. */
import { api } from '../api-client.js';
import { append, el } from '../dom.js';
import { setConn, startLive, stopLive } from '../live-updates.js';
import { go } from '../navigation.js';
import { session } from '../session.js';
import { t } from '../texts.js';
import { baseView } from './view.js';

export function loginView(root) {
  var v = baseView('login', root);
  stopLive();
  setConn('');
  var input = el('input', { id: 'token', type: 'password', autocomplete: 'current-password', required: true, placeholder: 'canh_…' });
  var msg = el('p', { id: 'login-error', cls: 'crit', role: 'alert' });
  var button = el('button', { cls: 'act', type: 'submit', id: 'login-submit', text: t('login') });
  var form = el('form', { id: 'login-form' }, [el('label', null, [t('token'), input]), el('p', { cls: 'muted small', text: t('loginHelp') }), button, msg]);
  form.addEventListener('submit', function (e) {
    e.preventDefault();
    button.disabled = true;
    msg.textContent = '';
    api('POST', 'api/auth/login', { token: input.value.trim() })
      .then(function (who) {
        session.me = who;
        startLive();
        go(session.afterLogin);
        session.afterLogin = '#/';
      })
      .catch(function (err) {
        msg.textContent = err.status === 429 ? t('rateLimited') : err.status === 401 || err.status === 400 ? t('loginFailed') : t('error') + ': ' + err.message;
      })
      .then(function () {
        button.disabled = false;
      });
  });
  append(root, el('div', { cls: 'card login' }, [el('h1', { text: t('loginTitle') }), form]));
  input.focus();
  return v;
}
