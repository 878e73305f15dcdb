/**
 * The minimal live board served by the collector: one table of hosts with their latest
 * figures, refreshed every 5 s. Vietnamese by default (`?lang=en` for English). No
 * inline script (CSP `default-src 'self'`), and every value is written with
 * `textContent`, never as HTML, because host names come from the field.
 */
export const BOARD_HTML = `<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Canh — Giám sát hạ tầng CNTT</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:0;background:#f4f6f8;color:#1d2733}
header{background:#0b5394;color:#fff;padding:10px 16px;display:flex;justify-content:space-between;align-items:center}
header h1{font-size:18px;margin:0}
header a{color:#fff}
main{padding:12px 16px}
#tablewrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{padding:6px 8px;border-bottom:1px solid #dde3ea;text-align:left;font-size:14px;white-space:nowrap}
th{background:#e8eef5}
.online{color:#137333;font-weight:600}.offline{color:#b3261e;font-weight:600}.unknown{color:#7a7a7a}
.warn{color:#b06000;font-weight:600}
#summary{margin:0 0 10px}
@media (max-width:640px){td:nth-child(1),th:nth-child(1),td:nth-child(7),th:nth-child(7),td:nth-child(8),th:nth-child(8){display:none}th,td{padding:6px 5px}}
</style>
</head>
<body>
<header><h1 id="title">Canh — Giám sát hạ tầng CNTT</h1><a id="lang" href="?lang=en">English</a></header>
<main>
<p id="summary"></p>
<div id="tablewrap"><table>
<thead><tr><th data-k="site"></th><th data-k="host"></th><th data-k="state"></th><th data-k="cpu"></th><th data-k="mem"></th><th data-k="disk"></th><th data-k="ping"></th><th data-k="uptime"></th><th data-k="seen"></th></tr></thead>
<tbody id="rows"></tbody>
</table></div>
</main>
<script src="board.js"></script>
</body>
</html>`;

export const BOARD_JS = `'use strict';
(function () {
  var en = /[?&]lang=en\\b/.test(location.search);
  var T = en ? {
    title: 'Canh — IT infrastructure monitor', other: 'Tiếng Việt', otherHref: '?lang=vi',
    site: 'Site', host: 'Computer', state: 'State', cpu: 'CPU', mem: 'Memory', disk: 'Fullest disk', ping: 'Gateway ping', uptime: 'Uptime', seen: 'Last seen',
    online: 'online', offline: 'offline', unknown: 'unknown', summary: function (o, n) { return o + ' of ' + n + ' computers online'; },
    na: 'n/a', ago: ' ago', days: 'd', hours: 'h', minutes: 'min', seconds: 's', lost: 'lost'
  } : {
    title: 'Canh — Giám sát hạ tầng CNTT', other: 'English', otherHref: '?lang=en',
    site: 'Điểm', host: 'Máy tính', state: 'Trạng thái', cpu: 'CPU', mem: 'Bộ nhớ', disk: 'Ổ đĩa đầy nhất', ping: 'Ping cổng mạng', uptime: 'Thời gian chạy', seen: 'Lần cuối',
    online: 'trực tuyến', offline: 'mất kết nối', unknown: 'chưa rõ', summary: function (o, n) { return o + '/' + n + ' máy đang trực tuyến'; },
    na: 'không có', ago: ' trước', days: ' ngày', hours: ' giờ', minutes: ' phút', seconds: ' giây', lost: 'mất gói'
  };
  document.documentElement.lang = en ? 'en' : 'vi';
  document.title = T.title;
  document.getElementById('title').textContent = T.title;
  var lang = document.getElementById('lang'); lang.textContent = T.other; lang.setAttribute('href', T.otherHref);
  var ths = document.querySelectorAll('th[data-k]');
  for (var i = 0; i < ths.length; i++) ths[i].textContent = T[ths[i].getAttribute('data-k')];
  function dur(s) {
    if (s >= 86400) return Math.floor(s / 86400) + T.days + ' ' + Math.floor((s % 86400) / 3600) + T.hours;
    if (s >= 3600) return Math.floor(s / 3600) + T.hours + ' ' + Math.floor((s % 3600) / 60) + T.minutes;
    if (s >= 60) return Math.floor(s / 60) + T.minutes;
    return Math.max(0, Math.round(s)) + T.seconds;
  }
  function pct(v) { return (Math.round(v * 10) / 10).toLocaleString(en ? 'en' : 'vi') + ' %'; }
  function cell(tr, text, cls) { var td = document.createElement('td'); td.textContent = text; if (cls) td.className = cls; tr.appendChild(td); }
  function render(data) {
    var rows = document.getElementById('rows');
    while (rows.firstChild) rows.removeChild(rows.firstChild);
    var online = 0;
    data.hosts.forEach(function (h) {
      if (h.state === 'online') online++;
      var m = (h.latest && h.latest.metrics) || {};
      var tr = document.createElement('tr');
      cell(tr, h.site);
      cell(tr, h.hostname || h.host);
      cell(tr, T[h.state] || h.state, h.state);
      cell(tr, m.cpu && m.cpu.usage != null ? pct(m.cpu.usage) : T.na, m.cpu && m.cpu.usage > 90 ? 'warn' : '');
      var memPct = m.mem && m.mem.total ? 100 * m.mem.used / m.mem.total : null;
      cell(tr, memPct != null ? pct(memPct) : T.na, memPct > 90 ? 'warn' : '');
      var worst = null;
      if (Array.isArray(m.disks)) m.disks.forEach(function (d) { if (!worst || d.usedPct > worst.usedPct) worst = d; });
      cell(tr, worst ? worst.mount + ' ' + pct(worst.usedPct) : T.na, worst && worst.usedPct > 90 ? 'warn' : '');
      var gw = Array.isArray(m.ping) ? m.ping.filter(function (p) { return p.role === 'gateway'; })[0] : null;
      cell(tr, gw ? (gw.rttMedian != null ? gw.rttMedian.toFixed(1) + ' ms' : '—') + (gw.lossPct > 0 ? ' (' + Math.round(gw.lossPct) + ' % ' + T.lost + ')' : '') : T.na, gw && gw.lossPct > 0 ? 'warn' : '');
      cell(tr, m.uptime && m.uptime.seconds != null ? dur(m.uptime.seconds) : T.na);
      cell(tr, h.lastSeen ? dur((Date.now() - h.lastSeen) / 1000) + T.ago : T.na);
      rows.appendChild(tr);
    });
    document.getElementById('summary').textContent = T.summary(online, data.hosts.length);
  }
  function load() {
    fetch('api/hosts', { headers: { accept: 'application/json' } })
      .then(function (r) { return r.json(); }).then(render).catch(function () {})
      .then(function () { setTimeout(load, 5000); });
  }
  load();
})();
`;
