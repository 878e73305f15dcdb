import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Paths whose values must never reach a log line (house style §7): passwords, tokens,
 * secrets, wherever they sit in a logged object.
 */
export const REDACT_PATHS = [
  'password',
  'token',
  'secret',
  'accessToken',
  'refreshToken',
  '*.password',
  '*.token',
  '*.secret',
  '*.accessToken',
  '*.refreshToken',
  '*.*.password',
  '*.*.token',
  'headers.authorization',
  'req.headers.authorization',
];

export interface LogOptions {
  level?: string;
  /** Destination stream; defaults to stdout. */
  destination?: NodeJS.WritableStream;
}

/** Root logger for one program; modules take `root.child({ module: 'name' })`. */
export function createLogger(program: string, opts: LogOptions = {}): Logger {
  const level = opts.level ?? process.env.CANH_LOG_LEVEL ?? 'info';
  const options = {
    level,
    base: { program, pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return opts.destination ? pino(options, opts.destination as never) : pino(options);
}

/** A logger that drops everything; for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * Rate-limited warning: logs the first occurrence of `key` and then at most once per
 * `intervalMs`, with the number suppressed in between. Used for untrusted-input errors
 * so a flood of bad messages cannot flood the log (DESIGN.md: "logged (rate-limited)").
 */
export class RateLimitedLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();
  constructor(
    private readonly log: Logger,
    private readonly intervalMs: number,
    private readonly now: () => number,
    private readonly maxKeys = 1000,
  ) {}

  warn(key: string, obj: Record<string, unknown>, msg: string): void {
    const t = this.now();
    const entry = this.last.get(key);
    if (entry && t - entry.at < this.intervalMs) {
      entry.suppressed++;
      return;
    }
    if (!entry && this.last.size >= this.maxKeys) this.last.clear();
    this.log.warn({ ...obj, suppressed: entry?.suppressed ?? 0 }, msg);
    this.last.set(key, { at: t, suppressed: 0 });
  }
}
