/* A host: its state, charts over a chosen period, events and outages, inventory. */
import { get, optional } from '../api-client.js';
import { putChart } from '../charts.js';
import { append, clear, el, href, note, table, td } from '../dom.js';
import { align, outageCauseKey } from '../series.js';
import { session } from '../session.js';
import { ago, bytes, dur, hostState, num, t, when } from '../texts.js';
import { baseView, loader, RANGES, stale } from './view.js';

export function hostView(root, site, host, range) {
  if (!RANGES[range]) range = '24h';
  var v = baseView('host', root);
  var title = el('h1', { id: 'host-title', text: host });
  var summary = el('div', { cls: 'card' });
  var grid = el('div', { cls: 'charts', id: 'charts' });
  var eventsBox = el('div', { cls: 'card' });
  var freezesBox = el('div', { cls: 'card', id: 'freezes' });
  var invBox = el('div', { cls: 'card' });
  var ranges = el(
    'div',
    { cls: 'ranges' },
    Object.keys(RANGES).map(function (r) {
      return el('a', { href: href('host', site, host, r), cls: r === range ? 'active' : '', data: { range: r }, text: t('r_' + r) });
    }),
  );
  // The site's display name arrives with the host (its id until then).
  var back = el('a', { id: 'host-back', href: href('site', site), text: '← ' + site });
  append(root, [
    el('p', null, back),
    title,
    summary,
    el('h2', { text: t('charts') }),
    ranges,
    grid,
    el('h2', { text: t('freezes') }),
    freezesBox,
    el('h2', { text: t('events') }),
    eventsBox,
    el('h2', { text: t('inventory') }),
    invBox,
  ]);
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
    var jobs = [
      get('api/hosts/' + encodeURIComponent(site) + '/' + encodeURIComponent(host), { lang: session.lang }),
      optional('api/events', { site: site, host: host, from: evFrom, to: now, limit: 200, lang: session.lang }),
      optional('api/outages', { site: site, host: host, from: evFrom, to: now, limit: 200 }),
      optional('api/hosts/' + encodeURIComponent(site) + '/' + encodeURIComponent(host) + '/freezes', { from: evFrom, to: now, limit: 50, lang: session.lang }),
    ];
    var first = jobs.length;
    metrics.forEach(function (m) {
      jobs.push(get('api/history', { site: site, host: host, metric: m, from: base.from, to: base.to, resolution: 'auto' }));
    });
    return Promise.all(jobs).then(function (r) {
      if (stale(v)) return;
      var h = r[0];
      renderSummary(h);
      var hist = {};
      metrics.forEach(function (m, i) {
        hist[m] = (r[first + i] && r[first + i].series) || [];
      });
      renderCharts(hist, from, now);
      renderFreezes(r[3]);
      renderEvents(r[1], r[2]);
      renderInventory(h.inventory);
    });
  });

  function renderSummary(h) {
    var st = h.host || {};
    title.textContent = st.hostname || host;
    if (h.siteName) back.textContent = '← ' + h.siteName;
    var spec = h.underSpec && h.underSpec.flag;
    var state = hostState(st.state, h.stopped, h.workingNow);
    clear(summary).appendChild(
      el('dl', { cls: 'kv' }, [
        el('dt', { text: t('state') }),
        el('dd', null, [
          el('span', { id: 'host-state', cls: 'host-state ' + state.cls, text: state.text }),
          st.stateSince ? ' — ' + t('since').toLowerCase() + ' ' + when(st.stateSince) : '',
        ]),
        el('dt', { text: t('hostId') }),
        el('dd', { text: site + ' / ' + host }),
        el('dt', { text: t('lastSeen') }),
        el('dd', { text: ago(st.lastSeen) }),
        el('dt', { text: t('inv_agent') }),
        el('dd', { text: st.agentVersion || t('na') }),
        st.clockSkewMs != null ? el('dt', { text: t('clockSkew') }) : null,
        st.clockSkewMs != null
          ? el('dd', {
              cls: 'warn clock-skew',
              text: dur(Math.abs(st.clockSkewMs) / 1000) + ' ' + t(st.clockSkewMs > 0 ? 'clockBehind' : 'clockAhead') + ' — ' + t('clockSkewHint'),
            })
          : null,
        h.update ? el('dt', { text: t('agentUpdate') }) : null,
        h.update ? updateState(h.update) : null,
        h.config ? el('dt', { text: t('remoteConfig') }) : null,
        h.config ? configState(h.config) : null,
        spec ? el('dt', { text: t('underSpec') }) : null,
        spec ? el('dd', { cls: 'warn', text: (h.underSpec.reasons || []).join('; ') }) : null,
      ]),
    );
  }

  /** The remote configuration (issue 16): the version sent to the PC and what it reported. */
  function configState(c) {
    var r = c.report;
    var version = c.version != null ? c.version : r && r.version;
    var head = t('cfgVersion') + ' ' + version + ' — ';
    if (!r || r.version !== version) return el('dd', { id: 'host-config', text: head + t('cfgPending') });
    if (r.state === 'refused') return el('dd', { id: 'host-config', cls: 'warn', text: head + t('cfgRefused') + (r.reason ? ': ' + r.reason : '') });
    return el('dd', { id: 'host-config', text: head + t('cfgApplied') });
  }

  /** Self-update (issue 16): the version offered to the PC and its last report about it. */
  function updateState(u) {
    var r = u.report;
    var offered = u.offer && u.offer.version;
    if (offered && (!r || r.version !== offered) && !(r && r.state === 'rolled_back' && r.from === offered))
      return el('dd', { id: 'host-update', text: offered + ' — ' + t('upd_offered') });
    if (!r) return null;
    var bad = r.state === 'refused' || r.state === 'rolled_back' || r.state === 'skipped';
    var text = (r.state === 'rolled_back' ? r.from + ' → ' + r.version : r.version) + ' — ' + t('upd_' + r.state) + (bad && r.reason ? ': ' + r.reason : '');
    return el('dd', { id: 'host-update', cls: bad ? 'warn' : '', text: text });
  }

  function byKey(series, scale) {
    return series.map(function (s) {
      return { key: s.key, points: s.points, scale: scale };
    });
  }
  function renderCharts(hist, from, to) {
    var one = function (id, list, title, yMax) {
      putChart(v, grid, {
        id: id,
        title: title,
        labels: list.map(function (s) {
          return s.label || s.key || title;
        }),
        data: align(list),
        yMin: 0,
        yMax: yMax,
        xRange: [from, to],
      });
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

  /** Why the PC froze (issue 17): each freeze with its likely cause and the figures behind it. */
  function renderFreezes(res) {
    clear(freezesBox);
    if (!res) {
      freezesBox.appendChild(note(t('notAvailable')));
      return;
    }
    var list = res.freezes || [];
    freezesBox.appendChild(note(t('freezesIntro')));
    if (!list.length) {
      freezesBox.appendChild(note(t('noFreezes')));
      return;
    }
    // How many of each cause: the answer to "vì sao máy treo" at a glance.
    var counts = {};
    list.forEach(function (f) {
      counts[f.cause] = (counts[f.cause] || 0) + 1;
    });
    var parts = Object.keys(counts)
      .sort(function (a, b) {
        return counts[b] - counts[a];
      })
      .map(function (k) {
        return counts[k] + ' ' + t('fc_' + k);
      });
    freezesBox.appendChild(el('p', { id: 'freeze-counts', text: list.length + ' ' + t('freezeCount') + ': ' + parts.join(', ') }));
    freezesBox.appendChild(
      table(
        [t('start'), t('duration'), t('freezeCause'), t('freezeProcesses')],
        list.map(function (f) {
          var others = (f.causes || []).slice(1).map(function (c) {
            return c.text;
          });
          var procs = (f.processes || [])
            .map(function (p) {
              return p.name + ' (' + num(p.cpuPct, 0) + '% CPU, ' + bytes(p.memBytes) + ')';
            })
            .join('; ');
          return el('tr', { data: { cause: f.cause } }, [
            td(when(f.start)),
            td(dur(f.durationMs / 1000)),
            el('td', { cls: f.cause === 'unknown' ? '' : 'warn' }, [f.text, others.length ? el('div', { cls: 'muted', text: t('freezeAlso') + ': ' + others.join('; ') }) : null]),
            td(procs || t('na')),
          ]);
        }),
        'freezes',
      ),
    );
  }

  function renderEvents(evs, outs) {
    clear(eventsBox);
    var rows = [];
    ((outs && outs.outages) || []).forEach(function (o) {
      var cause = outageCauseKey(o);
      rows.push({
        t: o.start,
        cls: cause === 'cause_unheard' ? 'warn' : 'crit',
        what: t('outage') + ': ' + t(cause),
        msg: o.end ? t('duration') + ' ' + dur((o.end - o.start) / 1000) : t('ongoing'),
      });
    });
    ((evs && evs.events) || []).forEach(function (e) {
      var d = e.start && e.end ? ' (' + dur((e.end - e.start) / 1000) + ')' : '';
      rows.push({
        t: e.t || e.start || e.receivedAt,
        cls: e.severity === 'critical' ? 'crit' : e.severity === 'warning' ? 'warn' : '',
        what: t('ev_' + e.type) + d,
        msg: e.text || e.message || '',
      });
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
    eventsBox.appendChild(
      table(
        [t('start'), t('eventType'), t('summary')],
        rows.slice(0, 200).map(function (r) {
          return el('tr', null, [td(when(r.t)), td(r.what, r.cls), td(r.msg)]);
        }),
        'events',
      ),
    );
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
    if (Array.isArray(inv.disks))
      add(
        t('inv_disks'),
        inv.disks
          .map(function (d) {
            return (d.name || d.device || '') + ' (' + d.type + ', ' + bytes(d.size) + ')';
          })
          .join('; '),
      );
    if (inv.os) add(t('inv_os'), [inv.os.distro, inv.os.release, inv.os.arch].filter(Boolean).join(' ') + (inv.os.kernel ? ' — ' + inv.os.kernel : ''));
    add(t('inv_agent'), inv.agentVersion);
    invBox.appendChild(el('dl', { cls: 'kv', id: 'inventory' }, kv));
  }

  v.refresh();
  return v;
}
