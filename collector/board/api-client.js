/*
 * The REST API (docs/api.md) from the board: JSON requests with the session cookie, the
 * CSRF header on mutations, errors as ApiError, the banner for the ones shown.
 */
import { banner } from './dom.js';
import { toLogin } from './navigation.js';
import { t } from './texts.js';

export function ApiError(status, body) {
  this.status = status;
  this.body = body || {};
  this.message = (body && (body.message || (body.reasons && body.reasons.join('; ')) || body.error)) || 'HTTP ' + status;
}

/** JSON request to the API. 401 anywhere but the login sends the officer to the login page. */
export function api(method, path, body) {
  var headers = { accept: 'application/json' };
  // CSRF guard for cookie sessions (docs/api.md): every mutation carries this header.
  if (method !== 'GET') headers['X-Canh-Request'] = '1';
  if (body !== undefined) headers['content-type'] = 'application/json';
  return fetch(path, { method: method, credentials: 'same-origin', headers: headers, body: body === undefined ? undefined : JSON.stringify(body) }).then(function (r) {
    return r.text().then(function (txt) {
      var data;
      try {
        data = txt ? JSON.parse(txt) : null;
      } catch (e) {
        data = null;
      }
      if (r.ok) return data;
      if (r.status === 401 && path.indexOf('api/auth/') !== 0) toLogin();
      throw new ApiError(r.status, data);
    });
  });
}
export function get(path, query) {
  return api('GET', path + qs(query));
}
/** A GET whose endpoint may not exist on this collector yet: 404 → null (empty state). */
export function optional(path, query) {
  return get(path, query).catch(function (e) {
    if (e && e.status === 404) return null;
    throw e;
  });
}
function qs(q) {
  if (!q) return '';
  var out = [];
  for (var k in q) if (q[k] != null && q[k] !== '') out.push(encodeURIComponent(k) + '=' + encodeURIComponent(q[k]));
  return out.length ? '?' + out.join('&') : '';
}
export function showError(e) {
  if (e && e.status === 401) return;
  banner(t('error') + ': ' + (e && e.message ? e.message : String(e)));
}
