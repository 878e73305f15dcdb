/*
 * Canh board: pure data shaping for the charts (no DOM), imported by the views and
 * unit-tested on its own (test/unit/board-series.test.ts).
 */
/** Aligns series of [[t, avg, …]] points on one x axis (seconds); missing points are null. */
export function align(seriesList) {
  var ts = {};
  seriesList.forEach(function (s) {
    s.points.forEach(function (p) {
      ts[p[0]] = true;
    });
  });
  var xs = Object.keys(ts)
    .map(Number)
    .sort(function (a, b) {
      return a - b;
    });
  var index = {};
  xs.forEach(function (x, i) {
    index[x] = i;
  });
  var data = [
    xs.map(function (x) {
      return x / 1000;
    }),
  ];
  seriesList.forEach(function (s) {
    var ys = new Array(xs.length);
    for (var i = 0; i < ys.length; i++) ys[i] = null;
    s.points.forEach(function (p) {
      ys[index[p[0]]] = s.scale ? p[1] * s.scale : p[1];
    });
    data.push(ys);
  });
  return data;
}

/**
 * Groups site-wide series (one per host and key) into one series per key (or one in all),
 * in buckets of `bucketMs`: the hosts' averages are averaged (`avg`) or summed (`sum`).
 */
export function combine(series, bucketMs, how, byKey) {
  var groups = {};
  series.forEach(function (s) {
    var g = byKey ? s.key : '';
    var perHost = groups[g] || (groups[g] = {});
    var id = s.host + '\u0000' + s.key;
    s.points.forEach(function (p) {
      if (p[1] == null) return;
      var b = Math.floor(p[0] / bucketMs) * bucketMs;
      var slot = perHost[b] || (perHost[b] = {});
      var h = slot[id] || (slot[id] = { sum: 0, n: 0 });
      h.sum += p[1];
      h.n++;
    });
  });
  return Object.keys(groups)
    .sort()
    .map(function (g) {
      var perBucket = groups[g];
      var points = Object.keys(perBucket)
        .map(Number)
        .sort(function (a, b) {
          return a - b;
        })
        .map(function (b) {
          var slot = perBucket[b];
          var total = 0;
          var n = 0;
          for (var id in slot) {
            total += slot[id].sum / slot[id].n;
            n++;
          }
          return [b, how === 'sum' ? total : total / n];
        });
      return { key: g, points: points };
    });
}

export function countPoints(data) {
  var n = 0;
  for (var i = 1; i < data.length; i++) for (var j = 0; j < data[i].length; j++) if (data[i][j] != null) n++;
  return n;
}

var tzFormats = {};
/** Spans [fromMs, toMs] of working time in [from, to] (collector/schedule/working-hours.ts rules), 15-min steps. */
export function workingSpans(wh, from, to) {
  if (!wh || !wh.days) return [];
  var tz = wh.timezone || 'Asia/Ho_Chi_Minh';
  var fmt = tzFormats[tz];
  if (!fmt) {
    try {
      fmt = tzFormats[tz] = new Intl.DateTimeFormat('en-US', {
        timeZone: tz,
        hour12: false,
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        weekday: 'short',
        hour: '2-digit',
        minute: '2-digit',
      });
    } catch (e) {
      return [];
    }
  }
  var WD = { Mon: '1', Tue: '2', Wed: '3', Thu: '4', Fri: '5', Sat: '6', Sun: '7' };
  var holidays = wh.holidays || [];
  var extra = wh.extraWorkingDays || [];
  var step = 900e3;
  var spans = [];
  var open = null;
  for (var x = Math.floor(from / step) * step; x <= to; x += step) {
    var parts = {};
    fmt.formatToParts(new Date(x)).forEach(function (p) {
      parts[p.type] = p.value;
    });
    var date = parts.year + '-' + parts.month + '-' + parts.day;
    var wd = WD[parts.weekday];
    var minute = (Number(parts.hour) % 24) * 60 + Number(parts.minute);
    var daySpans = wh.days[wd] || [];
    if (!daySpans.length && wd === '6' && wh.saturdayMorning) daySpans = [['07:30', '11:30']];
    if (!daySpans.length && extra.indexOf(date) >= 0)
      daySpans = wh.days['1'] || [
        ['07:30', '11:30'],
        ['13:30', '17:00'],
      ];
    if (holidays.indexOf(date) >= 0) daySpans = [];
    var inside = daySpans.some(function (s) {
      return minute >= toMin(s[0]) && minute < toMin(s[1]);
    });
    if (inside && open == null) open = Math.max(x, from);
    if (!inside && open != null) {
      spans.push([open, x]);
      open = null;
    }
  }
  if (open != null) spans.push([open, to]);
  return spans;
}
function toMin(s) {
  var p = String(s).split(':');
  return Number(p[0]) * 60 + Number(p[1]);
}

/**
 * True when [start, end] lies wholly outside the working spans (from `workingSpans` over a range
 * covering it); false when the site has no working hours configured (then nothing is off hours).
 */
export function outsideWorkingHours(wh, spans, start, end) {
  if (!wh || !wh.days) return false;
  return !spans.some(function (w) {
    return w[0] < end && w[1] > start;
  });
}

/**
 * The text key of a PC outage's cause. An open outage the collector took from silence alone,
 * with no Last Will from the broker (evidence.unconfirmed), is not known to be the PC's: the
 * collector has not heard from it, so it says so ("đang xác định nguyên nhân"), not "offline".
 */
export function outageCauseKey(o) {
  if (!o.end && o.evidence && o.evidence.unconfirmed) return 'cause_unheard';
  return 'cause_' + o.cause;
}
