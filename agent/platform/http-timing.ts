import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { RequestOptions } from 'node:https';
import type { Socket } from 'node:net';
import type { SecureContext, TLSSocket } from 'node:tls';
import { systemClock, type Clock, type TimerHandle } from '../../common/clock.js';
import { MAX_STRING } from '../../contract/limits.js';
import type { HttpProbeResult } from '../../contract/schemas.js';

/** One configured HTTP probe (the TTHC portals: the national portal, the province's one-stop system). */
export interface HttpProbeTarget {
  /** Short name, e.g. `dichvucong`. */
  name: string;
  url: string;
  method: 'GET' | 'HEAD';
  timeoutSeconds: number;
  /** When set, only this status is ok; otherwise any status below 400 is. */
  expectStatus?: number | undefined;
  /** Body bytes read at most before the connection is closed (GET). */
  maxBodyBytes: number;
}

/**
 * The port for timing one HTTP request (house style §3): the source schedules probes and
 * reports results, this measures one. Tests of the scheduling inject a fake; tests of
 * {@link NodeHttpTimer} run real servers on loopback.
 */
export interface HttpTimer {
  /**
   * Never rejects: a failed probe is a result with `ok: false` and a short `error`.
   * `signal` cancels it (agent stopping): it then resolves at once with error `ABORTED`.
   */
  probe(target: HttpProbeTarget, signal?: AbortSignal): Promise<HttpProbeResult>;
}

/** `dns.lookup`'s shape (the `lookup` option of `http.request`). */
export type LookupFunction = (
  hostname: string,
  options: LookupOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
) => void;

export interface NodeHttpTimerOptions {
  clock?: Clock;
  /** Name resolution; the OS resolver (`dns.lookup`, getaddrinfo) by default. Tests map names to loopback. */
  lookup?: LookupFunction;
  /** Extra CA certificates to trust besides the system's (tests; a private portal). */
  ca?: string | Buffer | Array<string | Buffer>;
}

type RequestModule = Pick<typeof import('node:https'), 'request'>;
type TlsModule = Pick<typeof import('node:tls'), 'createSecureContext'>;
let httpModule: Promise<RequestModule> | undefined;
let httpsModules: Promise<[RequestModule, TlsModule]> | undefined;
/**
 * node:http, or node:https and node:tls, imported on the first probe that needs them: an
 * agent with probes off never loads them, and one probing only http:// never loads TLS
 * (RSS budget, bench:agent).
 */
function loadHttp(): Promise<RequestModule> {
  return (httpModule ??= import('node:http'));
}
function loadHttps(): Promise<[RequestModule, TlsModule]> {
  return (httpsModules ??= Promise.all([import('node:https'), import('node:tls')]));
}

/** TLS verification failures that node reports by OpenSSL code (err.code). */
const TLS_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);

/** A node/OpenSSL error → the short code a probe reports (`ENOTFOUND`, `TLS CERT_HAS_EXPIRED`, …). */
export function probeErrorCode(err: unknown): string {
  const e = err as NodeJS.ErrnoException | undefined;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  if (code && (TLS_CODES.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_'))) return `TLS ${code}`.slice(0, MAX_STRING);
  if (code === 'EAI_AGAIN') return 'EAI_AGAIN'; // the resolver did not answer: DNS down, not a missing name
  if (code) return code.slice(0, MAX_STRING);
  const message = e?.message ?? String(err);
  return (message || 'error').slice(0, MAX_STRING);
}

/** A status against the expectation: the given status exactly, else anything below 400 (3xx: the portal answered). */
/** A probe result with no phase reached yet (filled in as the request progresses, or failed as is). */
export function unanswered(target: HttpProbeTarget): HttpProbeResult {
  return {
    name: target.name.slice(0, MAX_STRING),
    url: target.url.slice(0, MAX_STRING),
    ok: false,
    status: null,
    dnsMs: null,
    connectMs: null,
    tlsMs: null,
    firstByteMs: null,
    totalMs: null,
  };
}

export function statusOk(status: number, expectStatus: number | undefined): boolean {
  return expectStatus !== undefined ? status === expectStatus : status < 400;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/**
 * The real timer, on node:http/https (no child process, nothing to install). Each probe is
 * a fresh connection (`agent: false`, `Connection: close`: keep-alive would measure a
 * reused socket, not what a citizen's first request sees), uses no proxy (node's http does
 * not read `HTTP_PROXY`), and verifies TLS certificates (a bad one is a failed probe).
 *
 * Phases are cumulative, in ms since the request started, as curl's `time_namelookup`,
 * `time_connect`, `time_appconnect`, `time_starttransfer`, `time_total`: so
 * dns ≤ connect ≤ tls ≤ firstByte ≤ total. `dnsMs` is null for an IP literal (no lookup),
 * `tlsMs` null on http://. The body is read up to `maxBodyBytes`, then the socket is
 * destroyed (`totalMs` = at that point): a probe never downloads a whole page.
 */
export class NodeHttpTimer implements HttpTimer {
  private readonly clock: Clock;
  private readonly lookup: LookupFunction;
  private readonly ca: NodeHttpTimerOptions['ca'];
  private secureContext: SecureContext | undefined;

  constructor(opts: NodeHttpTimerOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.lookup = opts.lookup ?? (dnsLookup as unknown as LookupFunction);
    this.ca = opts.ca;
  }

  async probe(target: HttpProbeTarget, signal?: AbortSignal): Promise<HttpProbeResult> {
    let mod: RequestModule;
    if (/^https:/i.test(target.url)) {
      const [https, tls] = await loadHttps();
      mod = https;
      // One TLS context (the CA store) for every probe: building it per connection costs CPU and memory.
      this.secureContext ??= tls.createSecureContext(this.ca !== undefined ? { ca: this.ca } : {});
    } else mod = await loadHttp();
    const { clock } = this;
    const start = clock.monotonic();
    const since = () => round(clock.monotonic() - start);
    const result = unanswered(target);

    return new Promise<HttpProbeResult>((resolve) => {
      let settled = false;
      let timer: TimerHandle | undefined;
      let req: ClientRequest | undefined;
      let res: IncomingMessage | undefined;
      const onAbort = () => finish('ABORTED');
      const finish = (error?: string) => {
        if (settled) return;
        settled = true;
        clock.clear(timer);
        signal?.removeEventListener('abort', onAbort);
        if (error !== undefined) {
          result.ok = false;
          result.error = error;
        }
        if (result.totalMs === null && error === undefined) result.totalMs = since();
        res?.destroy();
        req?.destroy();
        resolve(result);
      };

      let url: URL;
      try {
        url = new URL(target.url);
        if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`unsupported protocol ${url.protocol}`);
      } catch (err) {
        finish(`bad URL: ${(err as Error).message}`.slice(0, MAX_STRING));
        return;
      }
      if (signal?.aborted) {
        finish('ABORTED');
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      const secure = url.protocol === 'https:';
      const timedLookup: LookupFunction = (hostname, options, callback) => {
        this.lookup(hostname, options, (err, address, family) => {
          if (!err) result.dnsMs = since();
          callback(err, address, family);
        });
      };

      try {
        const options: RequestOptions = {
          method: target.method,
          agent: false,
          lookup: timedLookup as unknown as RequestOptions['lookup'],
          headers: { 'user-agent': 'canh-agent (TTHC portal probe)', accept: '*/*', connection: 'close' },
        };
        if (secure) {
          // Verification stays on: the chain against the CA store, the name by checkServerIdentity.
          options.rejectUnauthorized = true;
          // https.request hands its options to tls.connect, which takes `secureContext` (not in the https typings).
          if (this.secureContext) (options as RequestOptions & { secureContext?: SecureContext }).secureContext = this.secureContext;
        }
        req = mod.request(url, options);
      } catch (err) {
        finish(probeErrorCode(err));
        return;
      }

      timer = clock.setTimeout(() => {
        // A partial measurement is still reported (e.g. connected but no first byte).
        finish('ETIMEDOUT');
      }, target.timeoutSeconds * 1000);

      req.on('socket', (socket: Socket) => {
        // An IP literal needs no lookup: dnsMs stays null.
        socket.once('connect', () => (result.connectMs = since()));
        if (secure) (socket as TLSSocket).once('secureConnect', () => (result.tlsMs = since()));
      });
      req.on('response', (response) => {
        res = response;
        result.firstByteMs = since();
        result.status = response.statusCode ?? 0;
        result.ok = statusOk(result.status, target.expectStatus);
        if (!result.ok) result.error = `HTTP ${result.status}`;
        if (target.maxBodyBytes <= 0) {
          result.totalMs = result.firstByteMs;
          finish();
          return;
        }
        let bytes = 0;
        response.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes >= target.maxBodyBytes) {
            result.totalMs = since();
            finish();
          }
        });
        response.on('end', () => {
          result.totalMs = since();
          finish();
        });
        response.on('error', (err) => finish(probeErrorCode(err)));
        // Closed without 'end' or 'error' (the server hung up mid-body): what arrived is measured.
        response.on('close', () => {
          if (!settled) result.totalMs = since();
          finish();
        });
      });
      req.on('error', (err) => finish(probeErrorCode(err)));
      req.end();
    });
  }
}
