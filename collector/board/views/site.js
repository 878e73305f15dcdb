/* A site: its hosts, network, 24-hour charts, incident timeline and monthly report. */
import { get, optional } from '../api-client.js';
import { putChart } from '../charts.js';
import { append, clear, el, href, note, table, td } from '../dom.js';
import { align, combine, outageCauseKey, outsideWorkingHours, workingSpans } from '../series.js';
import { session } from '../session.js';
import { ago, dur, hostState, levelClass, ms, num, pct, probeReason, t, when } from '../texts.js';
import { reportCard } from './report-card.js';
import { baseView, loader, stale } from './view.js';

/** Worst problem of a site page (docs/api.md `worst`), shown above its tables. */
function worstLine(w) {
  if (!w || w.level === 'ok') return null;
  return el('div', { cls: 'incident worst ' + w.level }, t('worst') + ': ' + w.text);
}
export function siteView(root, site) {
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
  append(root, [
    el('p', null, el('a', { href: '#/', text: '← ' + t('overview') })),
    title,
    incident,
    el('h2', { text: t('hosts') }),
    hostsBox,
    netBox,
    el('h2', { text: t('timeline') }),
    timeline,
    reportCard(site),
  ]);
  v.wants = function (d) {
    return d.site === site;
  };
  v.minInterval = 5000;
  var lastHistory = 0;
  var historyEmpty = true;
  v.refresh = loader(v, function () {
    var now = Date.now();
    var jobs = [
      get('api/sites/' + encodeURIComponent(site), { lang: session.lang }),
      optional('api/incidents', { site: site, from: now - 7 * 86400e3, to: now, limit: 200 }),
      optional('api/outages', { site: site, from: now - 7 * 86400e3, to: now, limit: 500 }),
    ];
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
      if (s.openIncident)
        incident.appendChild(
          el(
            'div',
            { cls: 'incident' },
            t('openIncident') +
              ': ' +
              t('cause_' + s.openIncident.cause) +
              ' — ' +
              t('since') +
              ' ' +
              when(s.openIncident.start) +
              ' (' +
              dur((now - s.openIncident.start) / 1000) +
              ')',
          ),
        );
      renderHosts(s);
      renderNetwork(s);
      if (withHistory) renderNetCharts(s, r[3], r[4], r[5], r[6], now);
      renderTimeline(r[1], r[2], now, s.workingHours);
    });
  });

  /** A PC's remote configuration (issue 16) in the table: refused or waiting stands out, applied is a quiet version. */
  function configBadge(c) {
    if (!c) return null;
    var r = c.report;
    var version = c.version != null ? c.version : r && r.version;
    var label = t('remoteConfig') + ' ' + version + ': ';
    if (r && r.version === version && r.state === 'refused') return el('span', { cls: 'badge cfg-state warn', title: r.reason || '', text: label + t('cfgRefused') });
    if (!r || r.version !== version) return el('span', { cls: 'badge cfg-state', text: label + t('cfgPending') });
    return el('span', { cls: 'muted small cfg-state', text: ' ' + t('cfgVersion') + ' ' + version });
  }

  function renderHosts(s) {
    var rows = (s.hosts || []).map(function (h) {
      var spec = h.underSpec && h.underSpec.flag;
      var st = hostState(h.state, h.stopped, s.workingNow);
      // A PC that is not running has no CPU or memory now: its last sample's figures (a
      // 99 % CPU in red while it is switched off) are not shown as current (issue 13 item 7).
      var now = h.state === 'online' ? h : {};
      return el('tr', { data: { host: h.host } }, [
        el('td', null, [
          el('a', { cls: 'host-name', href: href('host', site, h.host), text: h.hostname || h.host }),
          h.hostname && h.hostname !== h.host ? el('span', { cls: 'muted small host-id', text: ' ' + h.host }) : null,
          spec ? el('span', { cls: 'badge under-spec', title: (h.underSpec.reasons || []).join('; '), text: t('underSpec') }) : null,
          spec ? el('div', { cls: 'muted small hide-narrow', text: (h.underSpec.reasons || []).join('; ') }) : null,
          h.clockSkewMs != null ? el('span', { cls: 'badge clock-skew', title: t('clockSkewHint') + ': ' + dur(Math.abs(h.clockSkewMs) / 1000), text: t('clockSkew') }) : null,
          configBadge(h.config),
        ]),
        td(st.text, 'host-state ' + st.cls),
        el('td', { cls: 'num ' + levelClass(now.cpu, 80, 95), text: pct(now.cpu) }),
        el('td', { cls: 'num ' + levelClass(now.memPct, 85, 95), text: pct(now.memPct) }),
        el('td', { cls: 'num ' + levelClass(now.diskPct, 85, 95), text: pct(now.diskPct) }),
        el('td', { cls: 'num hide-narrow', text: now.uptimeSeconds == null ? t('na') : dur(now.uptimeSeconds) }),
        el('td', { cls: 'hide-narrow', text: ago(h.lastSeen) }),
      ]);
    });
    clear(hostsBox).appendChild(
      rows.length
        ? table([t('host'), t('state'), t('cpu'), t('mem'), t('disk'), { text: t('uptime'), cls: 'hide-narrow' }, { text: t('lastSeen'), cls: 'hide-narrow' }], rows, 'hosts')
        : note(t('noData')),
    );
  }

  function renderNetwork(s) {
    var n = s.network || { targets: [], http: [] };
    var rows = (n.targets || []).map(function (x) {
      return el('tr', null, [
        td(x.target),
        td(t('role_' + x.role)),
        el('td', { cls: 'num', text: ms(x.rttMedian) }),
        el('td', { cls: 'num', text: ms(x.rttP95) }),
        el('td', { cls: 'num ' + levelClass(x.lossPct, 1, 20), text: pct(x.lossPct) }),
      ]);
    });
    clear(netTable).appendChild(rows.length ? table([t('target'), t('role'), t('rttMedian'), t('rttP95'), t('loss')], rows, 'targets') : note(t('noData')));
    if (n.http && n.http.length) {
      netTable.appendChild(el('h3', { text: t('httpProbes') }));
      netTable.appendChild(
        table(
          ['URL', t('state'), t('responseTime')],
          n.http.map(function (p) {
            return el('tr', { data: { probe: p.name } }, [
              td(p.name + ' — ' + p.url),
              td(p.ok ? t('ok') : t('fail') + ': ' + probeReason(p), p.ok ? 'online' : 'offline'),
              el('td', { cls: 'num', text: ms(p.totalMs) }),
            ]);
          }),
          'http-probes',
        ),
      );
    }
    clear(usage).appendChild(el('h3', { text: t('lineUsage') }));
    var rxM = n.rxBps != null ? (n.rxBps * 8) / 1e6 : null;
    var txM = n.txBps != null ? (n.txBps * 8) / 1e6 : null;
    if (s.lineMbps) {
      [
        [t('download'), rxM],
        [t('upload'), txM],
      ].forEach(function (row) {
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
    putChart(v, netCharts, {
      id: 'site-rtt',
      title: t('latency24h'),
      labels: rttS.map(function (x) {
        return x.key;
      }),
      data: align(rttS),
      spanGaps: true,
      shade: shade,
      yMin: 0,
      xRange: [from, now],
    });
    putChart(v, netCharts, {
      id: 'site-loss',
      title: t('loss24h'),
      labels: lossS.map(function (x) {
        return x.key;
      }),
      data: align(lossS),
      spanGaps: true,
      shade: shade,
      yMin: 0,
      yMax: 5,
      xRange: [from, now],
    });
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
      lines.push({
        points: [
          [from, s.lineMbps],
          [now, s.lineMbps],
        ],
      });
      labels.push(t('lineContract'));
      dashed[labels.length - 1] = true;
    }
    historyEmpty = !rttS.length && !lossS.length && !rxS && !txS;
    putChart(v, netCharts, {
      id: 'site-line',
      title: t('lineUsage') + ' (Mbit/s)',
      labels: labels,
      data: align(lines),
      spanGaps: true,
      shade: shade,
      yMin: 0,
      dashed: dashed,
      xRange: [from, now],
    });
  }

  function renderTimeline(inc, out, now, workingHours) {
    clear(timeline);
    var from = now - 7 * 86400e3;
    // A PC out only outside working hours held up no one's file: shown without the alarm colour.
    var spans = workingSpans(workingHours, from, now);
    function offHours(it) {
      return outsideWorkingHours(workingHours, spans, it.start, it.end || now);
    }
    var items = [];
    ((inc && inc.incidents) || []).forEach(function (i) {
      items.push({ kind: 'incident', causeKey: 'cause_' + i.cause, start: i.start, end: i.end, who: (i.hostsOut || i.hosts || []).join(', ') });
    });
    ((out && out.outages) || []).forEach(function (o) {
      items.push({ kind: 'outage', causeKey: outageCauseKey(o), start: o.start, end: o.end, who: o.host });
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
      var sp = el('span', { cls: it.kind, title: t(it.kind) + ': ' + t(it.causeKey) + ' ' + it.who });
      sp.style.left = (l * 100).toFixed(2) + '%';
      sp.style.width = Math.max(0, (r - l) * 100).toFixed(2) + '%';
      strip.appendChild(sp);
    });
    timeline.appendChild(strip);
    timeline.appendChild(el('div', { cls: 'muted small' }, when(from) + ' → ' + when(now)));
    timeline.appendChild(
      table(
        [t('start'), t('kind'), t('duration'), t('hosts')],
        items.slice(0, 100).map(function (it) {
          return el('tr', null, [
            td(when(it.start)),
            it.kind === 'outage' && offHours(it)
              ? td(t(it.kind) + ': ' + t(it.causeKey) + ' (' + t('offHours') + ')', 'off-hours')
              : td(t(it.kind) + ': ' + t(it.causeKey), it.kind === 'incident' ? 'crit' : 'warn'),
            td(it.end ? dur((it.end - it.start) / 1000) : t('ongoing')),
            td(it.who),
          ]);
        }),
        'timeline',
      ),
    );
  }

  v.refresh();
  return v;
}
