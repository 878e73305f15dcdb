/**
 * A small Prometheus text-format registry (exposition format 0.0.4). Counters and
 * gauges with a fixed label set; label values are escaped, and the number of label
 * combinations per metric is bounded so untrusted input can never grow it without end.
 */
type Labels = Record<string, string>;

const MAX_SERIES_PER_METRIC = 1000;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function key(labels: Labels): string {
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
    readonly type: 'counter' | 'gauge',
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

  render(): string {
    return this.metrics.map((m) => m.render()).join('\n') + '\n';
  }
}
