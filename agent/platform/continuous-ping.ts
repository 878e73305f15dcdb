import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants, openSync, readSync, rmSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../common/clock.js';
import { pingCommand, type PingChildRecord } from './ping-children.js';

/** Replies and probes seen in one window (between two `take()` calls). */
export interface PingWindow {
  /** Probes whose fate is known: answered, or reported unanswered. */
  sent: number;
  /** Round-trip times in ms of the answered ones. */
  times: number[];
}

export type PingLine = { seq: number; time: number } | { seq: number; lost: true } | { failed: string } | undefined;

const REPLY = /icmp_seq=(\d+)\b.*?\btime[=<]([\d.]+)\s*ms/;
const NO_ANSWER = /no answer yet for icmp_seq=(\d+)/;
const FATAL = /(unknown host|Name or service not known|Temporary failure in name resolution|Network is unreachable|Operation not permitted|invalid argument)/i;

/** Parse one line of iputils `ping -n -O` output. */
export function parsePingLine(line: string): PingLine {
  const r = REPLY.exec(line);
  if (r) return { seq: Number(r[1]), time: Number(r[2]) };
  const n = NO_ANSWER.exec(line);
  if (n) return { seq: Number(n[1]), lost: true };
  const f = FATAL.exec(line);
  if (f) return { failed: f[1]! };
  return undefined;
}

/** A running ping process: what the pinger needs of it (no streams when its output goes to a FIFO). */
export type PingProcess = ChildProcess & { stdout: Readable | null; stderr: Readable | null };
/** Starts ping; `output`, when given, is the file descriptor its stdout and stderr go to. */
export type SpawnPing = (args: string[], output?: number) => PingProcess;

/** What one read of a drain takes at most; a drain reads on while reads fill it (a full FIFO holds 64 KiB). */
const DRAIN_CHUNK = 16_384;
/**
 * The drains' read buffer, one for every pinger: a drain reads synchronously and decodes what
 * it read before returning, so no two use it at once (was a new 64 KiB buffer per sample and
 * per target).
 */
let drainBuffer: Buffer | undefined;

export interface ContinuousPingOptions {
  target: string;
  /** Seconds between probes (iputils allows >= 0.2 without root). */
  probeIntervalSeconds: number;
  clock: Clock;
  log: Logger;
  binary?: string;
  spawnPing?: SpawnPing;
  /** Where the child's pid is recorded so that a later start ends it if this agent is killed (issue 13 item 8). */
  children?: PingChildRecord | undefined;
  /**
   * A named pipe (FIFO) ping writes to, read when a window is taken instead of as ping writes
   * (see {@link ContinuousPing}). Made afresh (`mkfifo`) for each ping process; when it cannot
   * be, an ordinary pipe read line by line. Absent: an ordinary pipe.
   */
  fifo?: string | undefined;
}

/**
 * One long-running `ping -n -O -i <interval> <target>` per target (Linux, iputils),
 * read line by line. Compared with a burst of probes per sample this spreads the
 * probes over the whole interval (so short peak-hour congestion is caught), and it
 * costs no process start per sample: on an old PC a fork of the agent every 15 s per
 * target is the most expensive thing the agent would do.
 *
 * `-O` makes ping report each probe that got no answer before the next one was sent,
 * so loss is counted per probe. A late reply for a probe already counted lost in a
 * previous window is ignored; within a window it turns the loss into a reply.
 *
 * With `fifo` (the agent on Linux: a named pipe in its private state dir) ping writes its
 * lines into the FIFO and the pinger reads them, non-blocking, when a window is taken (and
 * when ping exits): one read per sample instead of an event-loop wake-up, a pipe read and a
 * stream 'data' event per probe. Same lines, same windows. A FIFO's data never touches the
 * disk (only its directory entry, at each ping start). The kernel holds 64 KiB (~1,000 lines, over an hour
 * of probes at the default 3.75 s); were nobody to read for longer, ping blocks on its write
 * until the next read, which only pauses its probes (the pinger is stopped after 10 minutes
 * without a sample anyway: linux-system-info.ts).
 */
export class ContinuousPing {
  private child: PingProcess | undefined;
  private times: number[] = [];
  private lost = new Set<number>();
  private answered = new Set<number>();
  private windowStartSeq = 0;
  private maxSeq = -1;
  private restartTimer: TimerHandle | undefined;
  private stopped = false;
  private failures = 0;
  /** Why the pinger is not running, if it is not ("ENOENT" when the binary is missing). */
  lastError: string | undefined;
  private partial = '';
  /** FIFO mode: the read end. */
  private fifoFd: number | undefined;
  /** The FIFO could not be made: ordinary pipes from then on. */
  private fifoFailed = false;

  constructor(private readonly opts: ContinuousPingOptions) {}

  start(): void {
    this.stopped = false;
    this.launch();
  }

  private launch(): void {
    const { opts } = this;
    const args = ['-n', '-O', '-i', String(opts.probeIntervalSeconds), '-W', String(Math.max(1, Math.ceil(opts.probeIntervalSeconds))), opts.target];
    // Wrapped so that it dies with the agent, even of kill -9 (ping-children.ts).
    const spawnPing =
      opts.spawnPing ??
      ((a: string[], output?: number) => {
        const [cmd, argv] = pingCommand(opts.binary ?? 'ping', a);
        const stdio: ['ignore', 'pipe' | number, 'pipe' | number] = output === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', output, output];
        return spawn(cmd, argv, { stdio, env: { ...process.env, LC_ALL: 'C' }, windowsHide: true }) as PingProcess;
      });
    let child: PingProcess;
    const output = this.openFifo();
    try {
      child = spawnPing(args, output);
    } catch (err) {
      this.lastError = (err as NodeJS.ErrnoException).code ?? String(err);
      this.closeFifo();
      this.scheduleRestart();
      return;
    } finally {
      // The child has its own copy of the write end.
      if (output !== undefined) closeSync(output);
    }
    this.child = child;
    opts.children?.add(child.pid);
    this.partial = '';
    // A new process numbers its probes from 1 again.
    this.windowStartSeq = 0;
    this.maxSeq = -1;
    this.answered.clear();
    const onData = (buf: Buffer) => this.onData(buf);
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('error', (err: NodeJS.ErrnoException) => {
      this.lastError = err.code ?? err.message;
    });
    child.on('close', (code) => {
      opts.children?.remove(child.pid);
      // Its last lines (why it exited) are read before a restart opens the FIFO again.
      this.drain();
      this.closeFifo();
      if (this.child === child) this.child = undefined;
      if (this.stopped) return;
      if (!this.lastError) this.lastError = `ping exited with code ${code}`;
      this.scheduleRestart();
    });
  }

  /**
   * FIFO mode: the write end for ping (the read end, non-blocking, kept here), or undefined
   * for an ordinary pipe (no `fifo` option, or the FIFO could not be made: logged once).
   */
  private openFifo(): number | undefined {
    const path = this.opts.fifo;
    if (path === undefined || this.fifoFailed) return undefined;
    this.closeFifo();
    try {
      // A new FIFO for each ping process, as a pipe would be: a previous ping still exiting
      // (a restart, a changed probe interval) keeps writing into the old one, never into this.
      rmSync(path, { force: true });
      execFileSync('mkfifo', ['-m', '600', path], { stdio: 'ignore', windowsHide: true });
      // Read end first (non-blocking), so that opening the write end does not wait for a reader.
      this.fifoFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
      return openSync(path, constants.O_WRONLY);
    } catch (err) {
      this.fifoFailed = true;
      this.closeFifo();
      this.opts.log.warn({ err: (err as Error).message, fifo: path }, 'ping FIFO unavailable; reading ping through a pipe as it writes');
      return undefined;
    }
  }

  private closeFifo(): void {
    if (this.fifoFd === undefined) return;
    try {
      closeSync(this.fifoFd);
    } catch {
      // already closed
    }
    this.fifoFd = undefined;
  }

  /** FIFO mode: reads everything ping wrote since the last read (never blocks). */
  private drain(): void {
    const fd = this.fifoFd;
    if (fd === undefined) return;
    const buf = (drainBuffer ??= Buffer.allocUnsafe(DRAIN_CHUNK));
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf, 0, DRAIN_CHUNK, null);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EAGAIN' && code !== 'EWOULDBLOCK') this.lastError = code ?? String(err);
        return;
      }
      if (n <= 0) return; // no writer left (ping exited) and nothing more to read
      this.onData(buf.subarray(0, n));
      if (n < DRAIN_CHUNK) return;
    }
  }

  private onData(buf: Buffer): void {
    this.partial += buf.toString('utf8');
    if (this.partial.length > 65_536) this.partial = this.partial.slice(-4096); // bounded
    let nl: number;
    while ((nl = this.partial.indexOf('\n')) >= 0) {
      const line = this.partial.slice(0, nl);
      this.partial = this.partial.slice(nl + 1);
      this.onLine(line);
    }
  }

  private onLine(line: string): void {
    const p = parsePingLine(line);
    if (!p) return;
    if ('failed' in p) {
      this.lastError = p.failed;
      return;
    }
    this.lastError = undefined;
    this.failures = 0;
    if (p.seq < this.windowStartSeq) return; // belongs to a window already reported
    this.maxSeq = Math.max(this.maxSeq, p.seq);
    if ('lost' in p) {
      if (!this.answered.has(p.seq)) this.lost.add(p.seq);
      return;
    }
    if (this.answered.has(p.seq)) return; // DUP!
    this.answered.add(p.seq);
    this.lost.delete(p.seq);
    if (this.times.length < 10_000) this.times.push(p.time);
  }

  private scheduleRestart(): void {
    if (this.stopped || this.restartTimer) return;
    this.failures++;
    const delay = Math.min(60_000, 1000 * 2 ** Math.min(this.failures, 6));
    this.restartTimer = this.opts.clock.setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.stopped) this.launch();
    }, delay);
  }

  running(): boolean {
    return this.child !== undefined;
  }

  /** Probes and replies since the previous call. */
  take(): PingWindow {
    this.drain();
    const w = { sent: this.times.length + this.lost.size, times: this.times };
    this.times = [];
    this.lost = new Set();
    this.answered.clear();
    this.windowStartSeq = this.maxSeq + 1;
    return w;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.opts.clock.clear(this.restartTimer);
    this.restartTimer = undefined;
    const c = this.child;
    this.child = undefined;
    if (c && c.exitCode === null) {
      await new Promise<void>((resolve) => {
        c.once('close', () => resolve());
        c.kill('SIGTERM');
      });
    }
    this.closeFifo();
    if (this.opts.fifo !== undefined && !this.fifoFailed) rmSync(this.opts.fifo, { force: true });
  }
}
