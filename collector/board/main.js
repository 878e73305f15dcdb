/*
 * Canh board (issue 6): what is wrong, where, since when. Plain ES2017 modules bundled by
 * esbuild (scripts/build-board.mjs) into the one app.js the collector serves, no
 * framework, so it runs on an old office browser and a phone. Data comes from the REST
 * API (docs/api.md), live through Server-Sent Events with a polling fallback. CSP: no
 * inline script or handler, and every string from the field is written as text (dom.js).
 *
 * This file wires the page: the header's buttons, navigation, live updates, and the start.
 */
import { api, showError } from './api-client.js';
import { resizeCharts } from './charts.js';
import { $ } from './dom.js';
import { catchUp, startLive, stopLive } from './live-updates.js';
import { go, onNavigate, toLogin } from './navigation.js';
import { route, staticTexts } from './router.js';
import { LANG_KEY, session } from './session.js';

$('lang').addEventListener('click', function () {
  session.lang = session.lang === 'vi' ? 'en' : 'vi';
  try {
    window.localStorage.setItem(LANG_KEY, session.lang);
  } catch (e) {
    /* private mode: the choice lasts this page only */
  }
  route();
});
$('logout').addEventListener('click', function () {
  api('POST', 'api/auth/logout', {})
    .catch(function () {})
    .then(function () {
      stopLive();
      toLogin();
      session.afterLogin = '#/';
    });
});
window.addEventListener('hashchange', route);
document.addEventListener('visibilitychange', catchUp);
window.addEventListener('resize', resizeCharts);
onNavigate(route);

staticTexts();
api('GET', 'api/auth/me')
  .then(function (who) {
    session.me = who;
    startLive();
  })
  .catch(function (e) {
    session.me = null;
    if (e.status !== 401) showError(e);
  })
  .then(function () {
    if (!session.me) toLogin();
    else if (location.hash === '#/login') go('#/');
    else route();
  });
