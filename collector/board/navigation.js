/*
 * Moving between pages (hash routes). router.js registers how a page is drawn; the views
 * and the API client only ask to go somewhere, so none of them imports the router.
 */
import { session } from './session.js';

var render = function () {};

/** Sets what draws the page for the current hash (router.js `route`). */
export function onNavigate(fn) {
  render = fn;
}
/** Navigate; re-renders even when the hash is already there (no hashchange then). */
export function go(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}
export function toLogin() {
  session.me = null;
  if (location.hash && location.hash !== '#/login') session.afterLogin = location.hash;
  go('#/login');
}
