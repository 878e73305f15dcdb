/*
 * What every view has: a root element, charts, a refresh that drops answers arriving after
 * the officer moved on, and which live updates it wants.
 */
import { showError } from '../api-client.js';
import { banner } from '../dom.js';
import { session } from '../session.js';

/** The periods a chart or a silence can span. */
export var RANGES = { '1h': 3600e3, '24h': 86400e3, '7d': 7 * 86400e3, '30d': 30 * 86400e3 };

export function baseView(name, root) {
  return {
    name: name,
    root: root,
    charts: {},
    minInterval: 3000,
    wants: function () {
      return true;
    },
    refresh: function () {},
    destroy: function () {
      for (var k in this.charts) this.charts[k].destroy();
      this.charts = {};
    },
  };
}
/** Runs a view's loader; drops the answer when the officer has moved on meanwhile. */
export function loader(v, fn) {
  var gen = session.viewGen;
  return function () {
    return fn()
      .then(function () {
        if (gen === session.viewGen) {
          banner(null);
          v.root.setAttribute('data-loaded', String(Date.now()));
        }
      })
      .catch(function (e) {
        if (gen === session.viewGen) showError(e);
      });
  };
}
export function stale(v) {
  return session.view !== v;
}
