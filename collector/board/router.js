/*
 * The shell: the header's texts and the page for the current hash. Anyone not signed in
 * sees the login page, which then returns to the page they asked for.
 */
import { $, banner, clear } from './dom.js';
import { resetRefresh, setConn } from './live-updates.js';
import { session } from './session.js';
import { t } from './texts.js';
import { alertsView } from './views/alerts.js';
import { auditView, canSeeAudit } from './views/audit.js';
import { enrollView } from './views/enroll.js';
import { hostView } from './views/host.js';
import { loginView } from './views/login.js';
import { overviewView } from './views/overview.js';
import { siteView } from './views/site.js';
import { canSeeUpdates, updatesView } from './views/updates.js';

export function staticTexts() {
  document.documentElement.lang = session.lang;
  document.title = t('appTitle');
  $('nav-overview').textContent = t('overview');
  $('nav-alerts').textContent = t('alerts');
  $('nav-audit').textContent = t('auditLog');
  // Issue 14 item 7: the board offers what the login's role and scope allow (the API enforces it).
  $('nav-audit').hidden = !canSeeAudit();
  $('nav-enroll').textContent = t('nav_enroll');
  $('nav-updates').textContent = t('nav_updates');
  $('nav-updates').hidden = !canSeeUpdates();
  $('lang').textContent = t('otherLang');
  $('logout').textContent = t('logout');
  $('logout').hidden = !session.me;
  var mode = $('conn').getAttribute('data-mode');
  if (mode != null) setConn(mode);
}

/** Draws the page the hash names (#/, #/site/<id>, #/host/<site>/<host>[/<range>], #/alerts, #/audit, #/enroll, #/updates, #/login). */
export function route() {
  var parts = location.hash
    .replace(/^#\/?/, '')
    .split('/')
    .filter(function (p) {
      return p !== '';
    })
    .map(function (p) {
      try {
        return decodeURIComponent(p);
      } catch (e) {
        return p;
      }
    });
  if (session.view) session.view.destroy();
  session.viewGen++;
  resetRefresh();
  banner(null);
  var root = clear($('view'));
  var name = parts[0] || 'overview';
  if (!session.me && name !== 'login') {
    session.afterLogin = location.hash || '#/';
    name = 'login';
  }
  root.setAttribute('data-view', name);
  $('nav-overview').className = name === 'overview' || name === 'site' || name === 'host' ? 'active' : '';
  $('nav-alerts').className = name === 'alerts' ? 'active' : '';
  $('nav-audit').className = name === 'audit' ? 'active' : '';
  $('nav-enroll').className = name === 'enroll' ? 'active' : '';
  $('nav-updates').className = name === 'updates' ? 'active' : '';
  staticTexts();
  if (name === 'login') session.view = loginView(root);
  else if (name === 'site' && parts[1]) session.view = siteView(root, parts[1]);
  else if (name === 'host' && parts[2]) session.view = hostView(root, parts[1], parts[2], parts[3]);
  else if (name === 'alerts') session.view = alertsView(root);
  else if (name === 'audit') session.view = auditView(root);
  else if (name === 'enroll') session.view = enrollView(root);
  else if (name === 'updates') session.view = updatesView(root);
  else session.view = overviewView(root);
}
