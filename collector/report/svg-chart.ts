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
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const n = (x: number) => (Math.round(x * 10) / 10).toFixed(1).replace(/\.0$/, '');

/** A "nice" axis maximum and step (1, 2, 5 × 10^k). */
export function niceScale(max: number, ticks = 4): { top: number; step: number } {
  if (!(max > 0)) return { top: 1, step: 0.25 };
  const raw = max / ticks;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw)!;
  return { top: Math.ceil(max / step) * step, step };
}

export function barChart(spec: BarChartSpec): string {
  const W = spec.width ?? 640;
  const H = spec.height ?? 220;
  const left = 48;
  const right = 8;
  const top = 28;
  const bottom = 36;
  const plotW = W - left - right;
  const plotH = H - top - bottom;
  const vals = spec.values.map((v) => (v === null || !Number.isFinite(v) ? null : Math.max(0, v)));
  const max = Math.max(0, ...vals.filter((v): v is number => v !== null));
  const { top: yTop, step } = niceScale(max);
  const fmt = spec.formatTick ?? ((v: number) => n(v));
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeXml(spec.title)}">`,
    `<title>${escapeXml(spec.title)}</title>`,
    `<text x="${left}" y="16" font-size="13" font-weight="bold" fill="#222">${escapeXml(spec.title)}</text>`,
  );
  for (let v = 0; v <= yTop + step / 2; v += step) {
    const y = top + plotH - (v / yTop) * plotH;
    out.push(
      `<line x1="${left}" y1="${n(y)}" x2="${W - right}" y2="${n(y)}" stroke="#ddd" stroke-width="1"/>`,
      `<text x="${left - 4}" y="${n(y + 4)}" font-size="10" text-anchor="end" fill="#555">${escapeXml(fmt(v))}</text>`,
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
