/**
 * A real VictoriaMetrics (Debian's `victoria-metrics`) as a child process on a free
 * loopback port, for the InfluxDB export tests: start, stop, SIGKILL, SIGSTOP/SIGCONT,
 * restart on the same port and data directory, and read back with `/api/v1/export`.
 *
 * Flags: fresh points queryable at once (`-search.latencyOffset=0s`, no response cache),
 * 100 years of retention (tests write fixed past timestamps), and deduplication at 1 ms
 * (`-dedup.minScrapeInterval=1ms`): a point written twice with the same values (a resend
 * after a crash) is then stored once, as InfluxDB does. That is how the README tells users
 * to run VictoriaMetrics behind Canh.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

export const VM_BIN = process.env.CANH_VICTORIA_METRICS ?? 'victoria-metrics';

/** Throws with the install command when the binary is missing (tests must not skip silently). */
export function assertVictoriaMetrics(): void {
  const r = spawnSync(VM_BIN, ['-version'], { encoding: 'utf8' });
  if (r.error) throw new Error(`victoria-metrics not found (${VM_BIN}): install victoria-metrics: apt-get install -y victoria-metrics`);
}

/** One exported series: labels, values and timestamps (ms). */
export interface ExportedSeries {
  metric: Record<string, string>;
  values: number[];
  timestamps: number[];
}

export class VictoriaMetrics {
  private proc: ChildProcess | undefined;
  private out = '';
  private ownsDir = false;

  private constructor(
    readonly port: number,
    readonly dataDir: string,
  ) {}

  /** Starts VictoriaMetrics on a free port with a fresh data directory (or the given one). */
  static async start(opts: { dataDir?: string; port?: number } = {}): Promise<VictoriaMetrics> {
    assertVictoriaMetrics();
    const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'canh-vm-')));
    const vm = new VictoriaMetrics(opts.port ?? (await freePort()), dataDir);
    vm.ownsDir = !opts.dataDir;
    await vm.spawn();
    return vm;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  output(): string {
    return this.out;
  }

  private async spawn(): Promise<void> {
    const args = [
      `-httpListenAddr=127.0.0.1:${this.port}`,
      `-storageDataPath=${this.dataDir}`,
      '-retentionPeriod=100y',
      '-search.latencyOffset=0s',
      '-search.disableCache',
      '-dedup.minScrapeInterval=1ms',
      '-loggerLevel=WARN',
    ];
    const proc = spawn(VM_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    const keep = (b: Buffer): void => {
      this.out = (this.out + b.toString('utf8')).slice(-20_000);
    };
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`victoria-metrics exited with ${proc.exitCode}:\n${this.out}`);
      try {
        const res = await fetch(`${this.url}/health`);
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`victoria-metrics did not become healthy on ${this.url}:\n${this.out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Restarts on the same port and data directory (after stop() or kill9()). */
  async restart(): Promise<void> {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) throw new Error('victoria-metrics still running');
    await this.spawn();
  }

  private async signalAndWait(signal: NodeJS.Signals, timeoutMs = 15_000): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
    p.kill(signal);
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  /** Graceful stop (SIGTERM: VictoriaMetrics flushes its buffers). */
  stop(): Promise<void> {
    return this.signalAndWait('SIGTERM');
  }

  /** Crash: SIGKILL, so rows it acknowledged but had not yet written to disk are lost. */
  kill9(): Promise<void> {
    this.proc?.kill('SIGCONT');
    return this.signalAndWait('SIGKILL');
  }

  /** Freeze (SIGSTOP): connections are accepted by the kernel but never answered. */
  pause(): void {
    this.proc?.kill('SIGSTOP');
  }

  resume(): void {
    this.proc?.kill('SIGCONT');
  }

  /** Raw samples of every series matching `match` (a series selector), via /api/v1/export. */
  async export(match: string): Promise<ExportedSeries[]> {
    // Make rows received in the last seconds searchable now (they are not on disk yet).
    await fetch(`${this.url}/internal/force_flush`).catch(() => undefined);
    const body = new URLSearchParams({ 'match[]': match, start: '0' });
    const res = await fetch(`${this.url}/api/v1/export`, { method: 'POST', body });
    if (!res.ok) throw new Error(`export failed: ${res.status} ${await res.text()}`);
    const text = await res.text();
    return text
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as ExportedSeries);
  }

  /** Stops the process and removes the data directory if this helper created it. */
  async destroy(): Promise<void> {
    this.proc?.kill('SIGCONT');
    await this.signalAndWait('SIGKILL');
    if (this.ownsDir) await rm(this.dataDir, { recursive: true, force: true });
  }
}
