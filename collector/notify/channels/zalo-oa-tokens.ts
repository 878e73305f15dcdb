/**
 * The Zalo OA token pair and its refresh (issue 4): an access token lives ~25 h, a refresh
 * token may be used ONCE (3 months). So:
 * - a refreshed pair is persisted in one SQLite statement (atomic: old pair or new pair,
 *   never half) before it is used;
 * - refreshes are single-flight: concurrent sends that all met -216 share one refresh;
 * - before refreshing, the stored pair is read again: when another process (`canh notify
 *   test`) already refreshed, its new access token is used instead of spending the
 *   refresh token a second time.
 * The configured pair is the seed: when the operator puts a NEW pair in the config (a new
 * authorisation), it replaces the stored one.
 */
import type { Clock } from '../../../common/clock.js';
import type { Logger } from '../../../common/log.js';
import type { Counter } from '../../../common/metrics-registry.js';
import type { SqliteDatabase } from '../../store/sqlite-store.js';
import { httpRequest } from '../http-request.js';
import { scrubSecrets } from '../notifier.js';

export interface OaTokenPair {
  accessToken: string;
  refreshToken: string;
  /** Epoch ms; null when unknown. */
  expiresAt: number | null;
}

/** Port: where the pair lives between runs. */
export interface OaTokenStore {
  load(appId: string): (OaTokenPair & { seedRefreshToken: string }) | undefined;
  /** Replaces the pair atomically. */
  save(appId: string, pair: OaTokenPair, seedRefreshToken: string, now: number): void;
}

export class SqliteOaTokenStore implements OaTokenStore {
  constructor(private readonly db: SqliteDatabase) {}
  load(appId: string): (OaTokenPair & { seedRefreshToken: string }) | undefined {
    const r = this.db.prepare('SELECT access_token, refresh_token, expires_at, seed_refresh_token FROM notify_oa_tokens WHERE app_id = ?').get(appId) as
      { access_token: string; refresh_token: string; expires_at: number | null; seed_refresh_token: string } | undefined;
    return r && { accessToken: r.access_token, refreshToken: r.refresh_token, expiresAt: r.expires_at, seedRefreshToken: r.seed_refresh_token };
  }
  save(appId: string, p: OaTokenPair, seed: string, now: number): void {
    this.db
      .prepare(
        `INSERT INTO notify_oa_tokens (app_id, access_token, refresh_token, expires_at, seed_refresh_token, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (app_id) DO UPDATE SET access_token = excluded.access_token, refresh_token = excluded.refresh_token,
           expires_at = excluded.expires_at, seed_refresh_token = excluded.seed_refresh_token, updated_at = excluded.updated_at`,
      )
      .run(appId, p.accessToken, p.refreshToken, p.expiresAt, seed, now);
  }
}

export interface OaTokensOptions {
  appId: string;
  secret: string;
  /** Configured (seed) pair. */
  accessToken: string;
  refreshToken: string;
  oauthUrl: string;
  timeoutMs: number;
}

/** Thrown when a refresh fails; the message is secret-free. */
export class OaRefreshError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'OaRefreshError';
  }
}

export class ZaloOaTokens {
  private inflight: Promise<OaTokenPair> | undefined;

  constructor(
    private readonly opts: OaTokensOptions,
    private readonly deps: { store: OaTokenStore; clock: Clock; log: Logger; refreshes?: Counter | undefined },
  ) {}

  /** Every secret of this app, for scrubbing error texts. */
  secrets(): string[] {
    const p = this.current();
    return [this.opts.secret, this.opts.accessToken, this.opts.refreshToken, p.accessToken, p.refreshToken];
  }

  current(): OaTokenPair {
    const stored = this.deps.store.load(this.opts.appId);
    if (stored && stored.seedRefreshToken === this.opts.refreshToken) return stored;
    return { accessToken: this.opts.accessToken, refreshToken: this.opts.refreshToken, expiresAt: null };
  }

  /**
   * A new pair after `rejected` (the access token the API refused). Single-flight: callers
   * during a refresh get the same promise.
   */
  refresh(rejected: string): Promise<OaTokenPair> {
    if (this.inflight) return this.inflight;
    const p = this.doRefresh(rejected).finally(() => {
      this.inflight = undefined;
    });
    this.inflight = p;
    return p;
  }

  private async doRefresh(rejected: string): Promise<OaTokenPair> {
    const now = this.current();
    if (now.accessToken !== rejected) return now; // refreshed meanwhile (another process or an earlier refresh)
    const secrets = [this.opts.secret, now.accessToken, now.refreshToken];
    let answer;
    try {
      answer = await httpRequest({
        url: `${this.opts.oauthUrl.replace(/\/$/, '')}/v4/oa/access_token`,
        headers: { 'content-type': 'application/x-www-form-urlencoded', secret_key: this.opts.secret },
        body: new URLSearchParams({ app_id: this.opts.appId, grant_type: 'refresh_token', refresh_token: now.refreshToken }).toString(),
        timeoutMs: this.opts.timeoutMs,
        clock: this.deps.clock,
      });
    } catch (err) {
      this.deps.refreshes?.inc({ result: 'error' });
      throw new OaRefreshError(scrubSecrets(`zalo_oa_refresh_${(err as { code?: string }).code ?? 'error'}`, secrets));
    }
    const b = answer.json as { access_token?: unknown; refresh_token?: unknown; expires_in?: unknown; error?: unknown; error_name?: unknown } | undefined;
    if (answer.status !== 200 || typeof b?.access_token !== 'string' || typeof b.refresh_token !== 'string' || !b.access_token || !b.refresh_token) {
      this.deps.refreshes?.inc({ result: 'refused' });
      const code = typeof b?.error === 'number' ? b.error : answer.status;
      const name = typeof b?.error_name === 'string' ? `: ${b.error_name.slice(0, 120)}` : '';
      throw new OaRefreshError(scrubSecrets(`zalo_oa_refresh_failed_${code}${name}`, secrets));
    }
    // Zalo sends expires_in as a string of seconds ("90000").
    const expiresIn = Number(b.expires_in);
    const pair: OaTokenPair = {
      accessToken: b.access_token,
      refreshToken: b.refresh_token,
      expiresAt: Number.isFinite(expiresIn) && expiresIn > 0 ? this.deps.clock.now() + expiresIn * 1000 : null,
    };
    // Persist before use: the old refresh token is spent now; losing the new one would need a new authorisation.
    this.deps.store.save(this.opts.appId, pair, this.opts.refreshToken, this.deps.clock.now());
    this.deps.refreshes?.inc({ result: 'ok' });
    this.deps.log.info({ appId: this.opts.appId, expiresAt: pair.expiresAt }, 'Zalo OA access token refreshed and stored');
    return pair;
  }
}
