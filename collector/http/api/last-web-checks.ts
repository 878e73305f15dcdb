import type { HttpProbeResult } from '../../../contract/schemas.js';
import type { StoredMessage } from '../../ingest/ingest.js';
import type { StoredSample } from '../../store/store.js';

/**
 * How long a host's last web-check result stands in for a new one: ten default probe
 * intervals (agent `http.intervalSeconds`, 60 s). Older results are dropped (probes
 * turned off, host gone).
 */
export const WEB_CHECK_KEEP_MS = 10 * 60_000;

/** Bound on remembered hosts: a province's PCs several times over; the oldest result goes first. */
export const WEB_CHECK_MAX_HOSTS = 50_000;

/**
 * The last web-check (`http`) result of each host, kept across samples (issue 13 item 7).
 * The agent probes once a minute but samples every 15 s, so most latest samples carry no
 * `http`, and a board reading only the latest sample showed "Kiểm tra dịch vụ web" and hid
 * it again with each sample. Fed from ingest's onStored hook, so no result is missed
 * between two board requests; {@link fill} also records what it sees (a collector built
 * without the hook still keeps a result once a request saw it). Not persisted: after a
 * collector restart the section is back with each host's next probe.
 */
export class LastWebChecks {
  private readonly byHost = new Map<string, { t: number; http: HttpProbeResult[] }>();

  constructor(private readonly maxHosts = WEB_CHECK_MAX_HOSTS) {}

  /** Ingest's onStored hook: must not throw. */
  onStored(msg: StoredMessage): void {
    if (msg.kind !== 'samples') return;
    const http = probes(msg.row);
    if (http) this.remember(msg.row.site, msg.row.host, msg.row.t, http);
  }

  /** `latest` with its host's last web-check result when it carries none itself (and that result is recent). */
  fill(site: string, host: string, latest: StoredSample | undefined, now: number): StoredSample | undefined {
    if (!latest) return latest;
    const own = probes(latest);
    if (own) {
      this.remember(site, host, latest.t, own);
      return latest;
    }
    const key = keyOf(site, host);
    const last = this.byHost.get(key);
    if (!last) return latest;
    if (now - last.t > WEB_CHECK_KEEP_MS) {
      this.byHost.delete(key);
      return latest;
    }
    return { ...latest, metrics: { ...latest.metrics, http: last.http } };
  }

  get size(): number {
    return this.byHost.size;
  }

  private remember(site: string, host: string, t: number, http: HttpProbeResult[]): void {
    const key = keyOf(site, host);
    const prev = this.byHost.get(key);
    // A replayed (older) sample from an agent's outbox does not replace a newer result.
    if (prev && prev.t > t) return;
    this.byHost.delete(key);
    this.byHost.set(key, { t, http });
    if (this.byHost.size > this.maxHosts) this.byHost.delete(this.byHost.keys().next().value!);
  }
}

const keyOf = (site: string, host: string) => `${site}\u0000${host}`;

function probes(s: Pick<StoredSample, 'metrics'>): HttpProbeResult[] | undefined {
  const h = s.metrics.http;
  return Array.isArray(h) && h.length > 0 ? h : undefined;
}
