import type { Logger } from 'pino';
import type { Clock } from '../../../common/clock.js';
import type { SampleMetrics, Unavailable } from '../../../contract/schemas.js';
import type { AgentConfig } from '../../config.js';
import { isMissingError, type SystemInfo } from '../../platform/system-info.js';

/** The keys of a sample's `metrics` object; one source fills one key. */
export type SourceName = keyof SampleMetrics;

/** What a source returns when it works (the non-"unavailable" branch of its metric). */
export type SourceValue<N extends SourceName> = Exclude<NonNullable<SampleMetrics[N]>, Unavailable>;

/**
 * One metric source (house style §2: one file per source, one registry line).
 * `collect()` must be cheap: static facts are cached in `init()` or refreshed rarely.
 * A source that cannot work throws {@link SourceUnavailableError}; the sampler turns
 * that into `{ unavailable: reason }` in the sample and logs it once.
 */
export interface MetricSource<N extends SourceName = SourceName> {
  readonly name: N;
  init?(): Promise<void>;
  collect(): Promise<SourceValue<N>>;
  stop?(): Promise<void>;
}

export interface SourceContext {
  config: AgentConfig;
  clock: Clock;
  log: Logger;
  sys: SystemInfo;
}

/** Thrown by a source that cannot produce data on this machine (no binary, no permission, no counter). */
export class SourceUnavailableError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'SourceUnavailableError';
  }
}

/** How often sources re-read static facts (mount list, default gateway). */
export const STATIC_REFRESH_MS = 5 * 60_000;

/**
 * Runs one reading for a source: a missing file/counter/binary becomes
 * {@link SourceUnavailableError} (`what: message`); anything else is rethrown as is.
 */
export async function readOrUnavailable<T>(what: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof SourceUnavailableError) throw err;
    if (isMissingError(err)) throw new SourceUnavailableError(`${what}: ${(err as Error).message}`);
    throw err;
  }
}
