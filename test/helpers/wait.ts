/**
 * The one polling wait of the tests (issue 11 item 6): real processes, brokers and sockets
 * answer in their own time, so a test waits for what it expects to become true, and says
 * what it was waiting for when it does not.
 */
export interface WaitOptions {
  /** Give up after this long (default 10 s). */
  timeoutMs?: number;
  /**
   * Poll this often. Default: 10 ms at first, doubling up to 200 ms, so an in-process
   * condition is seen at once and a long wait on a real process's API costs it little.
   */
  intervalMs?: number;
  /** What the test waits for, in the failure message: `timed out after 5000 ms waiting for <what>`. */
  what?: string;
}

/**
 * Polls `predicate` (sync or async) until it returns a truthy value, and resolves with that
 * value; throws `timed out after N ms waiting for <what>` otherwise (with the predicate's
 * last error, if it threw).
 */
export async function waitFor<T>(predicate: () => T | Promise<T>, opts: WaitOptions = {}): Promise<NonNullable<T>> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  let intervalMs = opts.intervalMs ?? 10;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await predicate();
      if (v) return v as NonNullable<T>;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, Math.min(intervalMs, Math.max(0, deadline - Date.now()))));
    if (opts.intervalMs === undefined) intervalMs = Math.min(200, intervalMs * 2);
  }
  const why = lastError === undefined ? '' : ` (last error: ${lastError instanceof Error ? lastError.message : String(lastError)})`;
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what ?? 'a condition'}${why}`);
}
