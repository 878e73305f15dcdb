/**
 * A small hand-written SVG bar chart for the HTML report (no charting library: the report
 * is one self-contained file that prints and mails well). Output is deterministic: fixed
 * decimals, no ids from counters or randomness.
 */
export interface BarChartSpec {
  title: string;
  labels: string[];
  /** null = no data (drawn as a gap). */
  values: Array<number | null>;
  /** Unit appended to axis ticks. */
  unit: string;
  /** Optional emphasis per bar (e.g. non-working days drawn lighter). */
  muted?: boolean[];
  width?: number;
  height?: number;
  /** Formats axis tick values (language-specific decimals). */
  formatTick?: (v: number) => string;
  /**
   * Smallest tick step `formatTick` can show (1 for whole numbers): a finer step would print
   * the same label twice ("0 0 1 1 1", issue 13 item 6). Default 0.1, the default format's.
   */
  minStep?: number;
  /** What an empty chart says instead of an axis ("không có số liệu" / "no data"). */
  noData: string;
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const n = (x: number) => (Math.round(x * 10) / 10).toFixed(1).replace(/\.0$/, '');

const NICE = [1, 2, 5, 10];

/** The smallest "nice" step (1, 2, 5 × 10^k) that is at least `raw`. */
function niceStep(raw: number): number {
  const pow = 10 ** Math.floor(Math.log10(raw));
  // Rounded so that 0.1 × 3 stays 0.3 and steps print as they read.
  return Number(
    NICE.map((m) => m * pow)
      .find((s) => s >= raw * (1 - 1e-9))!
      .toPrecision(12),
  );
}

/**
 * A "nice" axis maximum and step (1, 2, 5 × 10^k), the step no finer than `minStep`. A
 * maximum of 0 (every value a real zero) gets one step above the baseline.
 */
export function niceScale(max: number, ticks = 4, minStep = 0): { top: number; step: number } {
  const floor = minStep > 0 ? niceStep(minStep) : 0;
  if (!(max > 0)) return floor > 0 ? { top: floor, step: floor } : { top: 1, step: 0.25 };
  const step = Math.max(niceStep(max / ticks), floor);
  return { top: Number((Math.ceil(max / step - 1e-9) * step).toPrecision(12)), step };
}

/**
 * The axis ticks and their labels, the step widened until no two labels read the same:
 * a safety net for a formatter coarser than `minStep` says.
 */
export function axisTicks(max: number, fmt: (v: number) => string, minStep = 0): { top: number; ticks: Array<{ v: number; label: string }> } {
  let { top, step } = niceScale(max, 4, minStep);
  let ticks: Array<{ v: number; label: string }> = [];
  // Bounded: each round at least doubles the step; a formatter that prints one label for
  // everything ends with the baseline and the top.
  for (let round = 0; round < 40; round++) {
    ticks = [];
    for (let i = 0; i * step <= top + step / 2; i++) {
      const v = Number((i * step).toPrecision(12));
      ticks.push({ v, label: fmt(v) });
    }
    if (new Set(ticks.map((t) => t.label)).size === ticks.length) break;
    ({ top, step } = niceScale(max, 4, niceStep(step * 1.5)));
  }
  return { top, ticks };
}

function svgOpen(spec: BarChartSpec, W: number, H: number, cls: string): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="${cls}" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeXml(spec.title)}">`,
    `<title>${escapeXml(spec.title)}</title>`,
    `<text x="48" y="16" font-size="13" font-weight="bold" fill="#222">${escapeXml(spec.title)}</text>`,
  ];
}

/**
 * A chart without a single measured value says so in words, with no axis: an axis from 0
 * to 1 over nothing reads as "every value 0" (issue 13 item 6). A series of real zeros is
 * data and keeps its axis.
 */
function emptyChart(spec: BarChartSpec, W: number): string {
  const H = 96;
  return [
    ...svgOpen(spec, W, H, 'chart no-data'),
    `<rect x="48" y="28" width="${W - 56}" height="${H - 40}" fill="none" stroke="#999" stroke-width="1" stroke-dasharray="4 3"/>`,
    `<text x="${n(48 + (W - 56) / 2)}" y="${n(28 + (H - 40) / 2 + 5)}" font-size="14" font-style="italic" text-anchor="middle" fill="#555">${escapeXml(spec.noData)}</text>`,
    '</svg>',
  ].join('');
}

export function barChart(spec: BarChartSpec): string {
  const W = spec.width ?? 640;
  const H = spec.height ?? 220;
  const vals = spec.values.map((v) => (v === null || !Number.isFinite(v) ? null : Math.max(0, v)));
  const present = vals.filter((v): v is number => v !== null);
  if (present.length === 0) return emptyChart(spec, W);
  const left = 48;
  const right = 8;
  const top = 28;
  const bottom = 36;
  const plotW = W - left - right;
  const plotH = H - top - bottom;
  const fmt = spec.formatTick ?? ((v: number) => n(v));
  const { top: yTop, ticks } = axisTicks(Math.max(0, ...present), fmt, spec.minStep ?? 0.1);
  const out: string[] = svgOpen(spec, W, H, 'chart');
  for (const t of ticks) {
    const y = top + plotH - (t.v / yTop) * plotH;
    out.push(
      `<line x1="${left}" y1="${n(y)}" x2="${W - right}" y2="${n(y)}" stroke="#ddd" stroke-width="1"/>`,
      `<text x="${left - 4}" y="${n(y + 4)}" font-size="10" text-anchor="end" fill="#555">${escapeXml(t.label)}</text>`,
    );
  }
  const count = Math.max(1, vals.length);
  const slot = plotW / count;
  const barW = Math.max(1, slot * 0.7);
  const labelEvery = Math.max(1, Math.ceil(count / 16));
  vals.forEach((v, i) => {
    const x = left + i * slot + (slot - barW) / 2;
    if (v !== null && v > 0) {
      const h = (v / yTop) * plotH;
      const fill = spec.muted?.[i] ? '#b8c7d9' : '#2b6cb0';
      out.push(
        `<rect x="${n(x)}" y="${n(top + plotH - h)}" width="${n(barW)}" height="${n(h)}" fill="${fill}"><title>${escapeXml(`${spec.labels[i] ?? ''}: ${fmt(v)} ${spec.unit}`)}</title></rect>`,
      );
    }
    if (i % labelEvery === 0) {
      out.push(`<text x="${n(left + i * slot + slot / 2)}" y="${H - bottom + 14}" font-size="10" text-anchor="middle" fill="#555">${escapeXml(spec.labels[i] ?? '')}</text>`);
    }
  });
  out.push(
    `<line x1="${left}" y1="${top + plotH}" x2="${W - right}" y2="${top + plotH}" stroke="#888" stroke-width="1"/>`,
    `<text x="${W - right}" y="${H - 6}" font-size="10" text-anchor="end" fill="#555">${escapeXml(spec.unit)}</text>`,
    '</svg>',
  );
  return out.join('');
}
