/*
 * Canh board (issue 6): what is wrong, where, since when. Plain ES2017 in one IIFE, no
 * modules, no framework, so it runs on an old office browser and a phone. Data comes
 * from the REST API (docs/api.md), live through Server-Sent Events with a polling
 * fallback. CSP: no inline script or handler, and every string from the field (site and
 * host names, event messages, inventory) is written as text (textContent / text nodes),
 * never parsed as HTML.
 */
(function () {
  'use strict';

  var I18N = window.CANH_I18N;
  var S = window.CANH_SERIES;
  var align = S.align;
  var combine = S.combine;
  var countPoints = S.countPoints;
  var workingSpans = S.workingSpans;
  var LANG_KEY = 'canh.lang';
  var RANGES = { '1h': 3600e3, '24h': 86400e3, '7d': 7 * 86400e3, '30d': 30 * 86400e3 };
  var POLL_MS = 15000;
  /** The collector's built-in alert rules (collector/alerting/rules/); others seen in alerts are added. */
  var RULES = ['host_offline', 'site_offline', 'network_cut', 'frequent_power_cuts', 'freezes_and_crashes', 'cpu_saturation', 'memory_saturation', 'disk_nearly_full', 'peak_hour_congestion', 'portal_unreachable'];
  var COLORS = ['#0b5394', '#e69500', '#137333', '#b3261e', '#6a1b9a', '#00838f', '#5d4037', '#c2185b', '#546e7a', '#9e9d24'];

  var lang = storedLang();
  var me = null; // {role, name}
  var view = null; // current view: {name, root, refresh(), destroy(), minInterval, wants(update)}
  var viewGen = 0;
  /** Where the officer was going when the login page came up (a shared link to a host). */
  var afterLogin = '#/';

  // ---------------------------------------------------------------- texts and formats

  function storedLang() {
    try {
      var l = window.localStorage.getItem(LANG_KEY);
      return l === 'en' ? 'en' : 'vi';
    } catch (e) {
      return 'vi';
    }
  }
  function t(key) {
    var s = I18N[lang][key];
    return s == null ? key : s;
  }
  function locale() {
    return lang === 'en' ? 'en-GB' : 'vi-VN';
  }
  function num(v, digits) {
    if (v == null || isNaN(v)) return t('na');
    return Number(v).toLocaleString(locale(), { maximumFractionDigits: digits == null ? 1 : digits });
  }
  function pct(v) {
    return v == null ? t('na') : num(v, 1) + ' %';
  }
  function ms(v) {
    return v == null ? t('na') : num(v, v < 1 ? 2 : 1) + ' ms';
  }
  /** Worst problem of a site page (docs/api.md `worst`), shown above its tables. */
  function worstLine(w) {
    if (!w || w.level === 'ok') return null;
    return el('div', { cls: 'incident worst ' + w.level }, t('worst') + ': ' + w.text);
  }
  function dur(seconds) {
    if (seconds == null || isNaN(seconds)) return t('na');
    var s = Math.max(0, Math.round(seconds));
    if (s >= 86400) return Math.floor(s / 86400) + t('u_d') + ' ' + Math.floor((s % 86400) / 3600) + t('u_h');
    if (s >= 3600) return Math.floor(s / 3600) + t('u_h') + ' ' + Math.floor((s % 3600) / 60) + t('u_min');
    if (s >= 60) return Math.floor(s / 60) + t('u_min');
    return s + t('u_s');
  }
  function ago(tms) {
    if (!tms) return t('na');
    return dur((Date.now() - tms) / 1000) + ' ' + t('ago');
  }
  function when(tms) {
    if (!tms) return t('na');
    return new Date(tms).toLocaleString(locale(), { day: '2-digit', month: '2-digit', hour: '2-digit', minute: '2-digit' });
  }
  function bytes(b) {
    if (b == null) return t('na');
    var u = ['B', 'KB', 'MB', 'GB', 'TB'];
    var i = 0;
    while (b >= 1024 && i < u.length - 1) {
      b /= 1024;
      i++;
    }
    return num(b, 1) + ' ' + u[i];
  }
  /** A rule's name in the officer's language (the raw name for a rule this board does not know). */
  function ruleLabel(r) {
    var s = I18N[lang]['rule_' + r];
    return s == null ? String(r) : s;
  }
  function levelClass(v, warn, crit) {
    if (v == null) return '';
    return v >= crit ? 'crit' : v >= warn ? 'warn' : '';
  }

  // ---------------------------------------------------------------- DOM (text only)

  /**
   * Builds an element. Strings in `kids` become text nodes; `text` sets textContent. There
   * is deliberately no way to pass HTML.
   */
  function el(tag, props, kids) {
    var n = document.createElement(tag);
    var p = props || {};
    for (var k in p) {
      if (!Object.prototype.hasOwnProperty.call(p, k)) continue;
      var v = p[k];
      if (v == null || v === false) continue;
      if (k === 'cls') n.className = v;
      else if (k === 'text') n.textContent = String(v);
      else if (k === 'on') for (var ev in v) n.addEventListener(ev, v[ev]);
      else if (k === 'data') for (var d in v) n.setAttribute('data-' + d, String(v[d]));
      else if (k === 'value') n.value = v;
      else n.setAttribute(k, v === true ? '' : String(v));
    }
    append(n, kids);
    return n;
  }
  function append(n, kids) {
    if (kids == null) return n;
    if (!Array.isArray(kids)) kids = [kids];
    for (var i = 0; i < kids.length; i++) {
      var c = kids[i];
      if (c == null || c === false) continue;
      if (Array.isArray(c)) append(n, c);
      else n.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    }
    return n;
  }
  function clear(n) {
    while (n.firstChild) n.removeChild(n.firstChild);
    return n;
  }
  function $(id) {
    return document.getElementById(id);
  }
  function href() {
    var parts = ['#'];
    for (var i = 0; i < arguments.length; i++) parts.push(encodeURIComponent(arguments[i]));
    return parts.join('/');
  }
  function table(headers, rows, cls) {
    var thead = el('thead', null, el('tr', null, headers.map(function (h) {
      return typeof h === 'string' ? el('th', { text: h }) : el('th', { text: h.text, cls: h.cls });
    })));
    return el('div', { cls: 'tablewrap' }, el('table', { cls: cls }, [thead, el('tbody', null, rows)]));
  }
  function td(text, cls) {
    return el('td', { cls: cls }, text);
  }
  function note(text) {
    return el('p', { cls: 'muted' }, text);
  }
  function banner(text, info) {
    var b = $('banner');
    if (!text) {
      b.hidden = true;
      return;
    }
    b.className = info ? 'info' : '';
    b.textContent = text;
    b.hidden = false;
  }

  // ---------------------------------------------------------------- API

  function ApiError(status, body) {
    this.status = status;
    this.body = body || {};
    this.message = (body && (body.message || (body.reasons && body.reasons.join('; ')) || body.error)) || 'HTTP ' + status;
  }

  /** JSON request to the API. 401 anywhere but the login sends the officer to the login page. */
  function api(method, path, body) {
    var headers = { accept: 'application/json' };
    // CSRF guard for cookie sessions (docs/api.md): every mutation carries this header.
    if (method !== 'GET') headers['X-Canh-Request'] = '1';
    if (body !== undefined) headers['content-type'] = 'application/json';
    return fetch(path, { method: method, credentials: 'same-origin', headers: headers, body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (r) {
        return r.text().then(function (txt) {
          var data = null;
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
  function get(path, query) {
    return api('GET', path + qs(query));
  }
  /** A GET whose endpoint may not exist on this collector yet: 404 → null (empty state). */
  function optional(path, query) {
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
  function showError(e) {
    if (e && e.status === 401) return;
    banner(t('error') + ': ' + (e && e.message ? e.message : String(e)));
  }

  // ---------------------------------------------------------------- live updates

  var live = { es: null, errors: 0, poll: null, pending: null, last: 0, dirty: false };

  function setConn(mode) {
    var c = $('conn');
    c.className = 'conn ' + mode;
    c.textContent = mode === 'live' ? t('live') : mode === 'poll' ? t('polling') : mode === 'down' ? t('offlineConn') : '';
    c.setAttribute('data-mode', mode);
  }
  function startLive() {
    stopLive();
    if (!window.EventSource) return startPolling();
    var es = new EventSource('api/stream');
    live.es = es;
    es.addEventListener('open', function () {
      live.errors = 0;
      setConn('live');
    });
    es.addEventListener('update', function (e) {
      var d;
      try {
        d = JSON.parse(e.data);
      } catch (err) {
        return;
      }
      if (view && view.wants(d)) scheduleRefresh();
    });
    es.addEventListener('error', function () {
      live.errors++;
      // A closed stream (404 on an older collector, 401) or one that keeps failing: poll instead.
      if (es.readyState === 2 || live.errors >= 3) {
        es.close();
        live.es = null;
        startPolling();
      } else setConn('down');
    });
  }
  function startPolling() {
    setConn('poll');
    if (live.poll) return;
    var ticks = 0;
    live.poll = setInterval(function () {
      if (view) scheduleRefresh();
      // Try the stream again every 5 minutes (the collector may have been restarting).
      if (++ticks % 20 === 0 && window.EventSource && me) startLive();
    }, POLL_MS);
  }
  function stopLive() {
    if (live.es) live.es.close();
    live.es = null;
    if (live.poll) clearInterval(live.poll);
    live.poll = null;
    live.errors = 0;
  }
  /** Refresh the current view, at most once per its `minInterval` (agents may report every second). */
  function scheduleRefresh() {
    // A tab in the background costs the collector (an old office PC) nothing: catch up when shown.
    if (document.hidden) {
      live.dirty = true;
      return;
    }
    if (live.pending) return;
    var wait = Math.max(0, live.last + view.minInterval - Date.now());
    live.pending = setTimeout(function () {
      live.pending = null;
      live.last = Date.now();
      if (view) view.refresh();
    }, wait);
  }

  // ---------------------------------------------------------------- charts (uPlot)


  /** X-axis labels in the officer's language, 24-hour clock; the date where the day changes. */
  function timeTicks(u, splits) {
    var span = splits.length > 1 ? splits[splits.length - 1] - splits[0] : 0;
    var lastDay = '';
    return splits.map(function (s) {
      var d = new Date(s * 1000);
      var day = d.toLocaleDateString(locale(), { day: '2-digit', month: '2-digit' });
      if (span > 3 * 86400) return day;
      var hm = d.toLocaleTimeString(locale(), { hour: '2-digit', minute: '2-digit', hour12: false });
      var label = day !== lastDay ? hm + '\n' + day : hm;
      lastDay = day;
      return label;
    });
  }

  /** Y-axis labels with the officer's decimal separator (0,5 in Vietnamese). */
  function numTicks(u, splits) {
    return splits.map(function (v) {
      return v == null ? '' : num(v, 3);
    });
  }

  /**
   * A chart card. spec: {id, title, labels[], data (uPlot columns), spanGaps, shade: [[fromMs,toMs]],
   * yMin, yMax}. Keeps its uPlot instance and updates it in place on refresh.
   */
  function Chart(spec) {
    this.box = el('div', { cls: 'chart', data: { chart: spec.id, points: 0 } }, [el('h3', { text: spec.title })]);
    this.plotBox = el('div');
    this.box.appendChild(this.plotBox);
    this.plot = null;
    this.sig = '';
    this.update(spec);
  }
  Chart.prototype.width = function () {
    var w = this.box.clientWidth || (this.box.parentNode && this.box.parentNode.clientWidth) || 400;
    return Math.max(240, w - 16);
  };
  Chart.prototype.update = function (spec) {
    var points = countPoints(spec.data);
    this.box.setAttribute('data-points', String(points));
    this.shade = spec.shade || [];
    // The whole requested period on the x axis, even when only its end has data.
    this.xRange = spec.xRange || null;
    if (!points || !window.uPlot) {
      this.destroy();
      clear(this.plotBox).appendChild(note(t('noData')));
      return;
    }
    var sig = spec.labels.join('\u0000') + '|' + spec.title;
    if (this.plot && sig === this.sig) {
      this.plot.setData(spec.data);
      return;
    }
    this.destroy();
    clear(this.plotBox);
    this.sig = sig;
    var self = this;
    var series = [{}].concat(spec.labels.map(function (label, i) {
      // uPlot's default shows point markers only where data is sparse (a new host, 15-min buckets).
      return { label: label, stroke: COLORS[i % COLORS.length], fill: undefined, width: 1.5, spanGaps: !!spec.spanGaps, dash: spec.dashed && spec.dashed[i] ? [6, 4] : undefined, points: { size: 6 } };
    }));
    var y = { auto: true };
    if (spec.yMin != null || spec.yMax != null) {
      y = {
        range: function (u, min, max) {
          return [spec.yMin != null ? Math.min(spec.yMin, min) : min, spec.yMax != null ? Math.max(spec.yMax, max) : max];
        },
      };
    }
    this.plot = new window.uPlot({
      width: this.width(),
      height: 190,
      series: series,
      scales: {
        x: {
          time: true,
          range: function (u, min, max) {
            return self.xRange ? [self.xRange[0] / 1000, self.xRange[1] / 1000] : [min, max];
          },
        },
        y: y,
      },
      axes: [{ values: timeTicks, space: 60 }, { values: numTicks }],
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
      hooks: {
        // Working hours drawn under the lines (issue 6: "working hours shaded").
        drawClear: [function (u) {
          if (!self.shade.length) return;
          var ctx = u.ctx;
          ctx.save();
          ctx.fillStyle = 'rgba(11,83,148,0.08)';
          self.shade.forEach(function (s) {
            var x0 = u.valToPos(s[0] / 1000, 'x', true);
            var x1 = u.valToPos(s[1] / 1000, 'x', true);
            var l = Math.max(u.bbox.left, x0);
            var r = Math.min(u.bbox.left + u.bbox.width, x1);
            if (r > l) ctx.fillRect(l, u.bbox.top, r - l, u.bbox.height);
          });
          ctx.restore();
        }],
      },
    }, spec.data, this.plotBox);
  };
  Chart.prototype.resize = function () {
    if (this.plot) this.plot.setSize({ width: this.width(), height: 190 });
  };
  Chart.prototype.destroy = function () {
    if (this.plot) this.plot.destroy();
    this.plot = null;
    this.sig = '';
  };

  var resizeTimer = null;
  window.addEventListener('resize', function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      if (view && view.charts) for (var k in view.charts) view.charts[k].resize();
    }, 200);
  });

  /** Keeps one Chart per id inside `grid` (created on first use, updated afterwards). */
  function putChart(v, grid, spec) {
    var c = v.charts[spec.id];
    if (c) c.update(spec);
    else {
      c = v.charts[spec.id] = new Chart(spec);
      grid.appendChild(c.box);
      c.resize(); // now that it has a width in the page
    }
    return c;
  }

  // ---------------------------------------------------------------- views

  function baseView(name, root) {
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
  function loader(v, fn) {
    var gen = viewGen;
    return function () {
      return fn()
        .then(function () {
          if (gen === viewGen) {
            banner(null);
            v.root.setAttribute('data-loaded', String(Date.now()));
          }
        })
        .catch(function (e) {
          if (gen === viewGen) showError(e);
        });
    };
  }
  function stale(v) {
    return view !== v;
  }

  function loginView(root) {
    var v = baseView('login', root);
    stopLive();
    setConn('');
    var input = el('input', { id: 'token', type: 'password', autocomplete: 'current-password', required: true, placeholder: 'canh_…' });
    var msg = el('p', { id: 'login-error', cls: 'crit', role: 'alert' });
    var button = el('button', { cls: 'act', type: 'submit', id: 'login-submit', text: t('login') });
    var form = el('form', { id: 'login-form' }, [
      el('label', null, [t('token'), input]),
      el('p', { cls: 'muted small', text: t('loginHelp') }),
      button,
      msg,
    ]);
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      button.disabled = true;
      msg.textContent = '';
      api('POST', 'api/auth/login', { token: input.value.trim() })
        .then(function (who) {
          me = who;
          startLive();
          go(afterLogin);
          afterLogin = '#/';
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

  function overviewView(root) {
    var v = baseView('overview', root);
    var tiles = el('div', { cls: 'tiles', id: 'tiles' });
    append(root, [el('h1', { text: t('sites') }), tiles]);
    // Samples can change the worst problem (a disk filling up): refresh, at most every 5 s.
    v.minInterval = 5000;
    v.refresh = loader(v, function () {
      return get('api/sites', { lang: lang }).then(function (data) {
        if (stale(v)) return;
        clear(tiles);
        var sites = (data && data.sites) || [];
        if (!sites.length) tiles.appendChild(note(t('noSites')));
        sites.forEach(function (s) {
          var worst = s.worst || { level: 'ok', text: '' };
          var inc = s.openIncident;
          tiles.appendChild(el('a', { cls: 'tile ' + worst.level, href: href('site', s.site), data: { site: s.site } }, [
            el('h3', { cls: 'site-name', text: s.name || s.site }),
            el('p', null, [el('span', { cls: 'big', text: s.hostsOnline + '/' + s.hostsTotal }), ' ', t('hostsOnline')]),
            el('p', { cls: inc ? 'crit' : 'muted' }, inc ? t('openIncident') + ': ' + t('cause_' + inc.cause) + ', ' + t('since').toLowerCase() + ' ' + when(inc.start) + ' (' + dur((Date.now() - inc.start) / 1000) + ')' : t('noIncident')),
            el('p', null, [el('span', { cls: worst.level === 'critical' ? 'crit' : worst.level === 'warning' ? 'warn' : 'online', text: t('lvl_' + worst.level) }),
              worst.text ? ': ' + worst.text + (worst.host ? ' (' + worst.host + ')' : '') : '']),
            el('p', { cls: 'muted small' }, t('lastSeen') + ': ' + ago(s.lastSeen)),
          ]));
        });
      });
    });
    v.refresh();
    return v;
  }

  /** Monthly report (issue 7): links to the collector's report of a month, opened in a new tab. */
  function reportCard(site) {
    var d = new Date();
    d.setDate(1);
    d.setMonth(d.getMonth() - 1);
    var month = el('input', { id: 'report-month', type: 'month', value: d.getFullYear() + '-' + ('0' + (d.getMonth() + 1)).slice(-2), 'aria-label': t('reportMonth') });
    var links = el('p');
    function update() {
      var m = /^\d{4}-\d{2}$/.test(month.value) ? month.value : '';
      links.textContent = '';
      ['html', 'csv', 'md'].forEach(function (f, i) {
        var q = 'site=' + encodeURIComponent(site) + (m ? '&month=' + m : '') + '&format=' + f + '&lang=' + lang;
        if (i) links.appendChild(document.createTextNode(' · '));
        links.appendChild(el('a', { cls: 'report-link', href: 'api/reports?' + q, target: '_blank', rel: 'noopener', text: t('report_' + f) }));
      });
    }
    month.addEventListener('change', update);
    update();
    return el('div', { cls: 'card', id: 'report-card' }, [el('h2', { text: t('monthlyReport') }), el('label', null, [t('reportMonth') + ' ', month]), links]);
  }

  function siteView(root, site) {
    var v = baseView('site', root);
    var title = el('h1', { id: 'site-title', text: site });
    var incident = el('div');
    var hostsBox = el('div', { cls: 'card' });
    var netBox = el('div', { cls: 'card' });
    var netTable = el('div');
    var usage = el('div');
    var netCharts = el('div', { cls: 'charts' });
    var timeline = el('div', { cls: 'card' });
    append(netBox, [el('h2', { text: t('network') }), netTable, usage, el('p', { cls: 'muted small', text: t('workingHoursShaded') }), netCharts]);
    append(root, [el('p', null, el('a', { href: '#/', text: '← ' + t('overview') })), title, incident, el('h2', { text: t('hosts') }), hostsBox, netBox, el('h2', { text: t('timeline') }), timeline, reportCard(site)]);
    v.wants = function (d) {
      return d.site === site;
    };
    v.minInterval = 5000;
    var lastHistory = 0;
    var historyEmpty = true;
    v.refresh = loader(v, function () {
      var now = Date.now();
      var jobs = [get('api/sites/' + encodeURIComponent(site), { lang: lang }), optional('api/incidents', { site: site, from: now - 7 * 86400e3, to: now, limit: 200 }), optional('api/outages', { site: site, from: now - 7 * 86400e3, to: now, limit: 500 })];
      // The 24-hour charts change slowly: fetch them at most once a minute.
      // (again at once while empty: a new site's rollups fill within a minute).
      var withHistory = historyEmpty || now - lastHistory > 60e3;
      if (withHistory) {
        lastHistory = now;
        ['ping_rtt', 'ping_loss', 'net_rx', 'net_tx'].forEach(function (m) {
          jobs.push(get('api/history', { site: site, metric: m, from: now - 86400e3, to: now, resolution: 'auto' }));
        });
      }
      return Promise.all(jobs).then(function (r) {
        if (stale(v)) return;
        var s = r[0];
        title.textContent = s.name || s.site;
        clear(incident);
        var worst = worstLine(s.worst);
        if (worst) incident.appendChild(worst);
        if (s.openIncident) incident.appendChild(el('div', { cls: 'incident' }, t('openIncident') + ': ' + t('cause_' + s.openIncident.cause) + ' — ' + t('since') + ' ' + when(s.openIncident.start) + ' (' + dur((now - s.openIncident.start) / 1000) + ')'));
        renderHosts(s);
        renderNetwork(s);
        if (withHistory) renderNetCharts(s, r[3], r[4], r[5], r[6], now);
        renderTimeline(r[1], r[2], now);
      });
    });

    function renderHosts(s) {
      var rows = (s.hosts || []).map(function (h) {
        var spec = h.underSpec && h.underSpec.flag;
        return el('tr', { data: { host: h.host } }, [
          el('td', null, [el('a', { cls: 'host-name', href: href('host', site, h.host), text: h.hostname || h.host }),
            h.hostname && h.hostname !== h.host ? el('span', { cls: 'muted small host-id', text: ' ' + h.host }) : null,
            spec ? el('span', { cls: 'badge under-spec', title: (h.underSpec.reasons || []).join('; '), text: t('underSpec') }) : null,
            spec ? el('div', { cls: 'muted small hide-narrow', text: (h.underSpec.reasons || []).join('; ') }) : null]),
          td(t('st_' + h.state), h.state),
          el('td', { cls: 'num ' + levelClass(h.cpu, 80, 95), text: pct(h.cpu) }),
          el('td', { cls: 'num ' + levelClass(h.memPct, 85, 95), text: pct(h.memPct) }),
          el('td', { cls: 'num ' + levelClass(h.diskPct, 85, 95), text: pct(h.diskPct) }),
          el('td', { cls: 'num hide-narrow', text: dur(h.uptimeSeconds) }),
          el('td', { cls: 'hide-narrow', text: ago(h.lastSeen) }),
        ]);
      });
      clear(hostsBox).appendChild(rows.length ? table([t('host'), t('state'), t('cpu'), t('mem'), t('disk'), { text: t('uptime'), cls: 'hide-narrow' }, { text: t('lastSeen'), cls: 'hide-narrow' }], rows, 'hosts') : note(t('noData')));
    }

    function renderNetwork(s) {
      var n = s.network || { targets: [], http: [] };
      var rows = (n.targets || []).map(function (x) {
        return el('tr', null, [td(x.target), td(t('role_' + x.role)), el('td', { cls: 'num', text: ms(x.rttMedian) }), el('td', { cls: 'num', text: ms(x.rttP95) }), el('td', { cls: 'num ' + levelClass(x.lossPct, 1, 20), text: pct(x.lossPct) })]);
      });
      clear(netTable).appendChild(rows.length ? table([t('target'), t('role'), t('rttMedian'), t('rttP95'), t('loss')], rows, 'targets') : note(t('noData')));
      if (n.http && n.http.length) {
        netTable.appendChild(el('h3', { text: t('httpProbes') }));
        netTable.appendChild(table(['URL', t('state'), 'ms'], n.http.map(function (p) {
          return el('tr', null, [td(p.name + ' — ' + p.url), td(p.ok ? t('ok') : t('fail'), p.ok ? 'online' : 'offline'), el('td', { cls: 'num', text: ms(p.totalMs) })]);
        })));
      }
      clear(usage).appendChild(el('h3', { text: t('lineUsage') }));
      var rxM = n.rxBps != null ? (n.rxBps * 8) / 1e6 : null;
      var txM = n.txBps != null ? (n.txBps * 8) / 1e6 : null;
      if (s.lineMbps) {
        [[t('download'), rxM], [t('upload'), txM]].forEach(function (row) {
          var p = row[1] == null ? 0 : Math.min(100, (100 * row[1]) / s.lineMbps);
          var bar = el('span', { cls: levelClass(p, 70, 90) });
          bar.style.width = p.toFixed(1) + '%';
          append(usage, [el('div', { cls: 'small' }, row[0] + ': ' + num(row[1], 2) + ' / ' + num(s.lineMbps, 0) + ' Mbit/s (' + pct(p) + ')'), el('div', { cls: 'bar' }, bar)]);
        });
      } else {
        append(usage, [el('div', { cls: 'small' }, t('download') + ': ' + num(rxM, 2) + ' Mbit/s, ' + t('upload') + ': ' + num(txM, 2) + ' Mbit/s'), note(t('lineUnknown'))]);
      }
    }

    function renderNetCharts(s, rtt, loss, rx, tx, now) {
      var from = now - 86400e3;
      var shade = workingSpans(s.workingHours, from, now);
      var bucket = 5 * 60e3;
      var rttS = combine((rtt && rtt.series) || [], bucket, 'avg', true);
      var lossS = combine((loss && loss.series) || [], bucket, 'avg', true);
      putChart(v, netCharts, { id: 'site-rtt', title: t('latency24h'), labels: rttS.map(function (x) { return x.key; }), data: align(rttS), spanGaps: true, shade: shade, yMin: 0, xRange: [from, now] });
      putChart(v, netCharts, { id: 'site-loss', title: t('loss24h'), labels: lossS.map(function (x) { return x.key; }), data: align(lossS), spanGaps: true, shade: shade, yMin: 0, yMax: 5, xRange: [from, now] });
      var rxS = combine((rx && rx.series) || [], bucket, 'sum', false)[0];
      var txS = combine((tx && tx.series) || [], bucket, 'sum', false)[0];
      var lines = [];
      var labels = [];
      if (rxS) {
        lines.push({ points: rxS.points, scale: 8 / 1e6 });
        labels.push(t('download'));
      }
      if (txS) {
        lines.push({ points: txS.points, scale: 8 / 1e6 });
        labels.push(t('upload'));
      }
      var dashed = [false, false];
      if (s.lineMbps && lines.length) {
        lines.push({ points: [[from, s.lineMbps], [now, s.lineMbps]] });
        labels.push(t('lineContract'));
        dashed[labels.length - 1] = true;
      }
      historyEmpty = !rttS.length && !lossS.length && !rxS && !txS;
      putChart(v, netCharts, { id: 'site-line', title: t('lineUsage') + ' (Mbit/s)', labels: labels, data: align(lines), spanGaps: true, shade: shade, yMin: 0, dashed: dashed, xRange: [from, now] });
    }

    function renderTimeline(inc, out, now) {
      clear(timeline);
      var from = now - 7 * 86400e3;
      var items = [];
      ((inc && inc.incidents) || []).forEach(function (i) {
        items.push({ kind: 'incident', cause: i.cause, start: i.start, end: i.end, who: (i.hostsOut || i.hosts || []).join(', ') });
      });
      ((out && out.outages) || []).forEach(function (o) {
        items.push({ kind: 'outage', cause: o.cause, start: o.start, end: o.end, who: o.host });
      });
      if (!inc && !out) {
        timeline.appendChild(note(t('notAvailable')));
        return;
      }
      if (!items.length) {
        timeline.appendChild(note(t('noTimeline')));
        return;
      }
      items.sort(function (a, b) {
        return b.start - a.start;
      });
      var strip = el('div', { cls: 'strip', title: t('timeline') });
      items.forEach(function (it) {
        var l = Math.max(0, (it.start - from) / (now - from));
        var r = Math.min(1, ((it.end || now) - from) / (now - from));
        var sp = el('span', { cls: it.kind, title: t(it.kind) + ': ' + t('cause_' + it.cause) + ' ' + it.who });
        sp.style.left = (l * 100).toFixed(2) + '%';
        sp.style.width = Math.max(0, (r - l) * 100).toFixed(2) + '%';
        strip.appendChild(sp);
      });
      timeline.appendChild(strip);
      timeline.appendChild(el('div', { cls: 'muted small' }, when(from) + ' → ' + when(now)));
      timeline.appendChild(table([t('start'), '', t('duration'), t('hosts')], items.slice(0, 100).map(function (it) {
        return el('tr', null, [td(when(it.start)), td(t(it.kind) + ': ' + t('cause_' + it.cause), it.kind === 'incident' ? 'crit' : 'warn'), td(it.end ? dur((it.end - it.start) / 1000) : t('ongoing')), td(it.who)]);
      }), 'timeline'));
    }

    v.refresh();
    return v;
  }

  function hostView(root, site, host, range) {
    if (!RANGES[range]) range = '24h';
    var v = baseView('host', root);
    var title = el('h1', { id: 'host-title', text: host });
    var summary = el('div', { cls: 'card' });
    var grid = el('div', { cls: 'charts', id: 'charts' });
    var eventsBox = el('div', { cls: 'card' });
    var invBox = el('div', { cls: 'card' });
    var ranges = el('div', { cls: 'ranges' }, Object.keys(RANGES).map(function (r) {
      return el('a', { href: href('host', site, host, r), cls: r === range ? 'active' : '', data: { range: r }, text: t('r_' + r) });
    }));
    append(root, [el('p', null, el('a', { href: href('site', site), text: '← ' + site })), title, summary, el('h2', { text: t('charts') }), ranges, grid, el('h2', { text: t('events') }), eventsBox, el('h2', { text: t('inventory') }), invBox]);
    v.wants = function (d) {
      return d.site === site && (d.host == null || d.host === host);
    };
    // Charts over hours or days gain little from second-by-second redraws.
    v.minInterval = range === '1h' ? 10000 : 60000;
    v.refresh = loader(v, function () {
      var now = Date.now();
      var from = now - RANGES[range];
      var base = { site: site, host: host, from: from, to: now, resolution: 'auto' };
      var metrics = ['cpu', 'mem', 'disk', 'net_rx', 'net_tx', 'ping_rtt', 'ping_loss'];
      var evFrom = Math.max(from, now - 30 * 86400e3);
      var jobs = [get('api/hosts/' + encodeURIComponent(site) + '/' + encodeURIComponent(host), { lang: lang }),
        optional('api/events', { site: site, host: host, from: evFrom, to: now, limit: 200 }),
        optional('api/outages', { site: site, host: host, from: evFrom, to: now, limit: 200 })];
      metrics.forEach(function (m) {
        jobs.push(get('api/history', { site: site, host: host, metric: m, from: base.from, to: base.to, resolution: 'auto' }));
      });
      return Promise.all(jobs).then(function (r) {
        if (stale(v)) return;
        var h = r[0];
        renderSummary(h);
        var hist = {};
        metrics.forEach(function (m, i) {
          hist[m] = (r[3 + i] && r[3 + i].series) || [];
        });
        renderCharts(hist, from, now);
        renderEvents(r[1], r[2]);
        renderInventory(h.inventory);
      });
    });

    function renderSummary(h) {
      var st = h.host || {};
      title.textContent = st.hostname || host;
      var spec = h.underSpec && h.underSpec.flag;
      clear(summary).appendChild(el('dl', { cls: 'kv' }, [
        el('dt', { text: t('state') }), el('dd', null, [el('span', { cls: st.state, text: t('st_' + st.state) }), st.stateSince ? ' — ' + t('since').toLowerCase() + ' ' + when(st.stateSince) : '']),
        el('dt', { text: t('hostId') }), el('dd', { text: site + ' / ' + host }),
        el('dt', { text: t('lastSeen') }), el('dd', { text: ago(st.lastSeen) }),
        el('dt', { text: t('inv_agent') }), el('dd', { text: st.agentVersion || t('na') }),
        spec ? el('dt', { text: t('underSpec') }) : null,
        spec ? el('dd', { cls: 'warn', text: (h.underSpec.reasons || []).join('; ') }) : null,
      ]));
    }

    function byKey(series, scale) {
      return series.map(function (s) {
        return { key: s.key, points: s.points, scale: scale };
      });
    }
    function renderCharts(hist, from, to) {
      var one = function (id, list, title, yMax) {
        putChart(v, grid, { id: id, title: title, labels: list.map(function (s) { return s.label || s.key || title; }), data: align(list), yMin: 0, yMax: yMax, xRange: [from, to] });
      };
      one('cpu', byKey(hist.cpu), t('ch_cpu'), 100);
      one('mem', byKey(hist.mem), t('ch_mem'), 100);
      one('disk', byKey(hist.disk), t('ch_disk'), 100);
      var net = [];
      hist.net_rx.forEach(function (s) {
        net.push({ label: s.key + ' ↓', points: s.points, scale: 8 / 1e6 });
      });
      hist.net_tx.forEach(function (s) {
        net.push({ label: s.key + ' ↑', points: s.points, scale: 8 / 1e6 });
      });
      one('net', net, t('ch_net'));
      one('ping', byKey(hist.ping_rtt), t('ch_ping'));
      one('loss', byKey(hist.ping_loss), t('ch_loss'), 5);
    }

    function renderEvents(evs, outs) {
      clear(eventsBox);
      var rows = [];
      ((outs && outs.outages) || []).forEach(function (o) {
        rows.push({ t: o.start, cls: 'crit', what: t('outage') + ': ' + t('cause_' + o.cause), msg: o.end ? t('duration') + ' ' + dur((o.end - o.start) / 1000) : t('ongoing') });
      });
      ((evs && evs.events) || []).forEach(function (e) {
        var d = e.start && e.end ? ' (' + dur((e.end - e.start) / 1000) + ')' : '';
        rows.push({ t: e.t || e.start || e.receivedAt, cls: e.severity === 'critical' ? 'crit' : e.severity === 'warning' ? 'warn' : '', what: t('ev_' + e.type) + d, msg: e.message || '' });
      });
      if (!evs && !outs) {
        eventsBox.appendChild(note(t('notAvailable')));
        return;
      }
      if (!rows.length) {
        eventsBox.appendChild(note(t('noEvents')));
        return;
      }
      rows.sort(function (a, b) {
        return (b.t || 0) - (a.t || 0);
      });
      eventsBox.appendChild(table([t('start'), '', t('summary')], rows.slice(0, 200).map(function (r) {
        return el('tr', null, [td(when(r.t)), td(r.what, r.cls), td(r.msg)]);
      }), 'events'));
    }

    function renderInventory(inv) {
      clear(invBox);
      if (!inv) {
        invBox.appendChild(note(t('noInventory')));
        return;
      }
      var kv = [];
      var add = function (k, val) {
        if (val == null || val === '') return;
        kv.push(el('dt', { text: k }), el('dd', { text: String(val) }));
      };
      if (inv.hostname) add(t('host'), inv.hostname);
      if (inv.cpu) {
        add(t('inv_cpu'), [inv.cpu.manufacturer, inv.cpu.brand, inv.cpu.speedGHz ? inv.cpu.speedGHz + ' GHz' : ''].filter(Boolean).join(' '));
        add(t('inv_cores'), inv.cpu.physicalCores + ' / ' + inv.cpu.cores);
      }
      add(t('inv_memTotal'), inv.memTotal != null ? bytes(inv.memTotal) : null);
      if (Array.isArray(inv.disks)) add(t('inv_disks'), inv.disks.map(function (d) {
        return (d.name || d.device || '') + ' (' + d.type + ', ' + bytes(d.size) + ')';
      }).join('; '));
      if (inv.os) add(t('inv_os'), [inv.os.distro, inv.os.release, inv.os.arch].filter(Boolean).join(' ') + (inv.os.kernel ? ' — ' + inv.os.kernel : ''));
      add(t('inv_agent'), inv.agentVersion);
      invBox.appendChild(el('dl', { cls: 'kv', id: 'inventory' }, kv));
    }

    v.refresh();
    return v;
  }

  function alertsView(root) {
    var v = baseView('alerts', root);
    var admin = me && me.role === 'admin';
    var alertsBox = el('div', { cls: 'card', id: 'alerts' });
    var silencesBox = el('div', { cls: 'card', id: 'silences' });
    var formBox = el('div', { cls: 'card' });
    append(root, [el('h1', { text: t('activeAlerts') }), alertsBox, el('h2', { text: t('silences') }), formBox, silencesBox]);
    v.wants = function (d) {
      return d.kind === 'alert' || d.kind === 'incident' || d.kind === 'status';
    };
    var siteSelect = el('select', { id: 'silence-site' });
    var hostInput = el('input', { id: 'silence-host', type: 'text', maxlength: 64, placeholder: t('anyValue') });
    var ruleInput = el('select', { id: 'silence-rule' }, [el('option', { value: '', text: t('anyValue') })].concat(RULES.map(function (r) {
      return el('option', { value: r, text: ruleLabel(r) });
    })));
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
      return Promise.all([optional('api/alerts', { state: 'active', limit: 200, lang: lang }), optional('api/silences'), sitesLoaded ? null : optional('api/sites')]).then(function (r) {
        if (stale(v)) return;
        if (r[2]) {
          sitesLoaded = true;
          clear(siteSelect).appendChild(el('option', { value: '', text: t('anyValue') }));
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
      alertsBox.appendChild(table([t('severity'), t('summary'), t('site'), t('host'), t('since'), t('state'), ''], alerts.map(function (a) {
        return el('tr', { data: { alert: a.id } }, [
          td(t('sev_' + a.severity), a.severity === 'critical' ? 'crit' : a.severity === 'warning' ? 'warn' : ''),
          el('td', null, [a.summary || ruleLabel(a.rule), el('div', { cls: 'muted small', text: ruleLabel(a.rule) })]),
          td(a.site), td(a.host || t('na')), td(when(a.startsAt)),
          el('td', null, [t('al_' + a.state), a.silenced ? el('span', { cls: 'badge', text: t('silenced') }) : null]),
          el('td', null, admin && !a.silenced ? el('button', { cls: 'act secondary', type: 'button', text: t('silence'), on: { click: function () { prefill(a); } } }) : null),
        ]);
      }), 'alerts'));
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
      silencesBox.appendChild(table([t('matchers'), t('state'), t('ends'), t('author'), t('comment'), ''], list.map(function (s) {
        var m = s.matchers || {};
        var desc = ['site', 'host', 'rule'].filter(function (k) { return m[k]; }).map(function (k) { return t(k) + ' = ' + (k === 'rule' ? ruleLabel(m[k]) : m[k]); }).join(', ') || t('anyValue');
        return el('tr', { data: { silence: s.id, state: s.state } }, [
          td(desc), td(t('si_' + s.state), s.state === 'active' ? 'online' : 'muted'), td(when(s.endsAt)), td(s.author || ''), td(s.comment || ''),
          el('td', null, admin && s.state !== 'expired' ? el('button', { cls: 'act secondary expire', type: 'button', text: t('expire'), on: { click: function (e) {
            e.target.disabled = true;
            api('DELETE', 'api/silences/' + encodeURIComponent(s.id)).then(function () {
              banner(t('silenceExpired'), true);
              return v.refresh();
            }).catch(showError);
          } } }) : null),
        ]);
      }), 'silences'));
    }

    v.refresh();
    return v;
  }

  // ---------------------------------------------------------------- shell and routing

  function toLogin() {
    me = null;
    if (location.hash && location.hash !== '#/login') afterLogin = location.hash;
    go('#/login');
  }
  /** Navigate; re-renders even when the hash is already there (no hashchange then). */
  function go(hash) {
    if (location.hash === hash) route();
    else location.hash = hash;
  }

  function staticTexts() {
    document.documentElement.lang = lang;
    document.title = t('appTitle');
    $('nav-overview').textContent = t('overview');
    $('nav-alerts').textContent = t('alerts');
    $('lang').textContent = t('otherLang');
    $('logout').textContent = t('logout');
    $('logout').hidden = !me;
    var mode = $('conn').getAttribute('data-mode');
    if (mode != null) setConn(mode);
  }

  function route() {
    var parts = location.hash.replace(/^#\/?/, '').split('/').filter(function (p) {
      return p !== '';
    }).map(function (p) {
      try {
        return decodeURIComponent(p);
      } catch (e) {
        return p;
      }
    });
    if (view) view.destroy();
    viewGen++;
    if (live.pending) clearTimeout(live.pending);
    live.pending = null;
    live.last = Date.now();
    banner(null);
    var root = clear($('view'));
    var name = parts[0] || 'overview';
    if (!me && name !== 'login') {
      afterLogin = location.hash || '#/';
      name = 'login';
    }
    root.setAttribute('data-view', name);
    $('nav-overview').className = name === 'overview' || name === 'site' || name === 'host' ? 'active' : '';
    $('nav-alerts').className = name === 'alerts' ? 'active' : '';
    staticTexts();
    if (name === 'login') view = loginView(root);
    else if (name === 'site' && parts[1]) view = siteView(root, parts[1]);
    else if (name === 'host' && parts[2]) view = hostView(root, parts[1], parts[2], parts[3]);
    else if (name === 'alerts') view = alertsView(root);
    else view = overviewView(root);
  }

  $('lang').addEventListener('click', function () {
    lang = lang === 'vi' ? 'en' : 'vi';
    try {
      window.localStorage.setItem(LANG_KEY, lang);
    } catch (e) {
      /* private mode: the choice lasts this page only */
    }
    route();
  });
  $('logout').addEventListener('click', function () {
    api('POST', 'api/auth/logout', {}).catch(function () {}).then(function () {
      stopLive();
      toLogin();
      afterLogin = '#/';
    });
  });
  window.addEventListener('hashchange', route);
  document.addEventListener('visibilitychange', function () {
    if (!document.hidden && live.dirty && view) {
      live.dirty = false;
      scheduleRefresh();
    }
  });

  staticTexts();
  api('GET', 'api/auth/me')
    .then(function (who) {
      me = who;
      startLive();
    })
    .catch(function (e) {
      me = null;
      if (e.status !== 401) showError(e);
    })
    .then(function () {
      if (!me) toLogin();
      else if (location.hash === '#/login') go('#/');
      else route();
    });
})();
