/*
 * Charts (uPlot, vendored, loaded before this script as window.uPlot): one card per chart,
 * its uPlot instance updated in place on refresh, working hours shaded under the lines.
 */
import { clear, el, note } from './dom.js';
import { countPoints } from './series.js';
import { session } from './session.js';
import { locale, num, t } from './texts.js';

var COLORS = ['#0b5394', '#e69500', '#137333', '#b3261e', '#6a1b9a', '#00838f', '#5d4037', '#c2185b', '#546e7a', '#9e9d24'];

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
  var series = [{}].concat(
    spec.labels.map(function (label, i) {
      // uPlot's default shows point markers only where data is sparse (a new host, 15-min buckets).
      return {
        label: label,
        stroke: COLORS[i % COLORS.length],
        fill: undefined,
        width: 1.5,
        spanGaps: !!spec.spanGaps,
        dash: spec.dashed && spec.dashed[i] ? [6, 4] : undefined,
        points: { size: 6 },
      };
    }),
  );
  var y = { auto: true };
  if (spec.yMin != null || spec.yMax != null) {
    y = {
      range: function (u, min, max) {
        return [spec.yMin != null ? Math.min(spec.yMin, min) : min, spec.yMax != null ? Math.max(spec.yMax, max) : max];
      },
    };
  }
  this.plot = new window.uPlot(
    {
      width: this.width(),
      height: 190,
      series: series,
      scales: {
        x: {
          time: true,
          range: (u, min, max) => (this.xRange ? [this.xRange[0] / 1000, this.xRange[1] / 1000] : [min, max]),
        },
        y: y,
      },
      axes: [{ values: timeTicks, space: 60 }, { values: numTicks }],
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
      hooks: {
        // Working hours drawn under the lines (issue 6: "working hours shaded").
        drawClear: [
          (u) => {
            if (!this.shade.length) return;
            var ctx = u.ctx;
            ctx.save();
            ctx.fillStyle = 'rgba(11,83,148,0.08)';
            this.shade.forEach(function (s) {
              var x0 = u.valToPos(s[0] / 1000, 'x', true);
              var x1 = u.valToPos(s[1] / 1000, 'x', true);
              var l = Math.max(u.bbox.left, x0);
              var r = Math.min(u.bbox.left + u.bbox.width, x1);
              if (r > l) ctx.fillRect(l, u.bbox.top, r - l, u.bbox.height);
            });
            ctx.restore();
          },
        ],
      },
    },
    spec.data,
    this.plotBox,
  );
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
/** The window changed size: the current view's charts follow, once it settles. */
export function resizeCharts() {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(function () {
    var view = session.view;
    if (view && view.charts) for (var k in view.charts) view.charts[k].resize();
  }, 200);
}

/** Keeps one Chart per id inside `grid` (created on first use, updated afterwards). */
export function putChart(v, grid, spec) {
  var c = v.charts[spec.id];
  if (c) c.update(spec);
  else {
    c = v.charts[spec.id] = new Chart(spec);
    grid.appendChild(c.box);
    c.resize(); // now that it has a width in the page
  }
  return c;
}
