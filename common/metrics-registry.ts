/**
 * A small Prometheus text-format registry (exposition format 0.0.4). Counters and
 * gauges with a fixed label set; label values are escaped, and the number of label
 * combinations per metric is bounded so untrusted input can never grow it without end.
 */
type Labels = Record<string, string>;

const MAX_SERIES_PER_METRIC = 1000;

const NEEDS_ESCAPE = /[\\\n"]/;

function escapeLabel(v: string): string {
  if (!NEEDS_ESCAPE.test(v)) return v;
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** The series key: labels sorted by name, values escaped. Called on hot paths (per sample): no sort or array for 0 or 1 label. */
function key(labels: Labels): string {
  let only: string | undefined;
  let n = 0;
  for (const k in labels) {
    if (n++ > 0) break;
    only = k;
  }
  if (n === 0) return '';
  if (n === 1) return `${only!}="${escapeLabel(labels[only!]!)}"`;
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}="${escapeLabel(labels[k]!)}"`)
    .join(',');
}

abstract class Metric {
  protected readonly series = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'histogram',
  ) {}

  protected slot(labels: Labels): string {
    const k = key(labels);
    if (!this.series.has(k) && this.series.size >= MAX_SERIES_PER_METRIC) return key({ overflow: 'true' });
    return k;
  }

  get(labels: Labels = {}): number {
    return this.series.get(key(labels)) ?? 0;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`];
    for (const [k, v] of this.series) lines.push(k ? `${this.name}{${k}} ${v}` : `${this.name} ${v}`);
    return lines.join('\n');
  }
}

export class Counter extends Metric {
  constructor(name: string, help: string) {
    super(name, help, 'counter');
  }
  inc(labels: Labels = {}, by = 1): void {
    const k = this.slot(labels);
    this.series.set(k, (this.series.get(k) ?? 0) + by);
  }
}

export class Gauge extends Metric {
  private readonly collectors: Array<() => void> = [];
  constructor(name: string, help: string, collect?: (g: Gauge) => void) {
    super(name, help, 'gauge');
    if (collect) this.collectors.push(() => collect(this));
  }
  set(value: number, labels: Labels = {}): void {
    this.series.set(this.slot(labels), value);
  }
  override render(): string {
    for (const c of this.collectors) c();
    return super.render();
  }
}

/**
 * Cumulative histogram (Prometheus `_bucket{le}`, `_sum`, `_count`), e.g. HTTP latency
 * by route template. Label combinations are bounded like the other metrics.
 */
export class Histogram extends Metric {
  private readonly data = new Map<string, { labels: string; counts: number[]; sum: number; count: number }>();
  constructor(
    name: string,
    help: string,
    readonly buckets: readonly number[],
  ) {
    super(name, help, 'histogram');
  }
  observe(value: number, labels: Labels = {}): void {
    let k = key(labels);
    if (!this.data.has(k) && this.data.size >= MAX_SERIES_PER_METRIC) k = key({ overflow: 'true' });
    let d = this.data.get(k);
    if (!d) {
      d = { labels: k, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.data.set(k, d);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) d.counts[i]!++;
    d.sum += value;
    d.count++;
  }
  /** Observations so far with these labels. */
  count(labels: Labels = {}): number {
    return this.data.get(key(labels))?.count ?? 0;
  }
  override render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const d of this.data.values()) {
      const sep = d.labels ? ',' : '';
      this.buckets.forEach((b, i) => lines.push(`${this.name}_bucket{${d.labels}${sep}le="${b}"} ${d.counts[i]}`));
      lines.push(`${this.name}_bucket{${d.labels}${sep}le="+Inf"} ${d.count}`);
      lines.push(d.labels ? `${this.name}_sum{${d.labels}} ${d.sum}` : `${this.name}_sum ${d.sum}`);
      lines.push(d.labels ? `${this.name}_count{${d.labels}} ${d.count}` : `${this.name}_count ${d.count}`);
    }
    return lines.join('\n');
  }
}

export class MetricsRegistry {
  private readonly metrics: Metric[] = [];

  counter(name: string, help: string): Counter {
    const c = new Counter(name, help);
    this.metrics.push(c);
    return c;
  }

  gauge(name: string, help: string, collect?: (g: Gauge) => void): Gauge {
    const g = new Gauge(name, help, collect);
    this.metrics.push(g);
    return g;
  }

  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    const h = new Histogram(name, help, buckets);
    this.metrics.push(h);
    return h;
  }

  render(): string {
    return this.metrics.map((m) => m.render()).join('\n') + '\n';
  }
}
