import type { Clock } from '../../common/clock.js';
import { scrubSecrets, type SendOutcome } from './notifier.js';

export interface HttpAnswer {
  status: number;
  /** Parsed JSON body, or undefined when the body is not JSON. */
  json: unknown;
  /** The raw body, cut to 2 KiB (for error reasons). */
  text: string;
  retryAfterMs: number | undefined;
}

export interface HttpRequest {
  url: string;
  method?: 'POST' | 'GET';
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  clock: Clock;
}

/** The request did not get an HTTP answer (refused, reset, DNS, timeout). */
export class HttpTransportError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'HttpTransportError';
  }
}

const MAX_RETRY_AFTER_MS = 10 * 60_000;

function retryAfter(h: string | null): number | undefined {
  if (!h) return undefined;
  const s = Number(h);
  if (Number.isFinite(s) && s >= 0) return Math.min(s * 1000, MAX_RETRY_AFTER_MS);
  return undefined;
}

/**
 * One HTTP request with a deadline (the whole exchange, body included, is aborted after
 * `timeoutMs`). Errors never carry the URL: a Zalo bot URL holds the token.
 */
export async function httpRequest(req: HttpRequest): Promise<HttpAnswer> {
  const ac = new AbortController();
  let timedOut = false;
  const timer = req.clock.setTimeout(() => {
    timedOut = true;
    ac.abort();
  }, req.timeoutMs);
  try {
    const res = await fetch(req.url, { method: req.method ?? 'POST', headers: req.headers, body: req.body, signal: ac.signal, redirect: 'error' });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text: text.slice(0, 2048), retryAfterMs: retryAfter(res.headers.get('retry-after')) };
  } catch (err) {
    if (timedOut) throw new HttpTransportError(`no answer within ${req.timeoutMs} ms`, 'timeout');
    const cause = (err as { cause?: { code?: unknown } }).cause;
    const code = typeof cause?.code === 'string' ? cause.code : (err as Error).name || 'error';
    throw new HttpTransportError(`request failed (${code})`, code);
  } finally {
    req.clock.clear(timer);
  }
}

/** Outcome for an HTTP status that is not success (shared by the HTTP channels). */
export function outcomeForStatus(a: HttpAnswer, prefix: string, secrets: ReadonlyArray<string | undefined> = []): SendOutcome {
  const reason = scrubSecrets(`${prefix}_http_${a.status}`, secrets);
  if (a.status === 429 || a.status === 408 || a.status === 425 || a.status >= 500) return { status: 'retriable', reason, retryAfterMs: a.retryAfterMs };
  // 401/403/404: a set-up problem (token, URL) that an operator fixes; keep the message until then (bounded by the give-up rules).
  if (a.status === 401 || a.status === 403 || a.status === 404) return { status: 'retriable', reason };
  return { status: 'permanent', reason };
}

/** Outcome for a request that got no answer. */
export function outcomeForTransportError(err: unknown, prefix: string, secrets: ReadonlyArray<string | undefined> = []): SendOutcome {
  const code = err instanceof HttpTransportError ? err.code : 'error';
  return { status: 'retriable', reason: scrubSecrets(`${prefix}_${code}`, secrets) };
}
