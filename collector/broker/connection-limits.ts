import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';

/**
 * Connections at once for the embedded broker, in total and per source address, so a
 * flood of idle TCP connections cannot take every file descriptor of the collector (HTTP,
 * the store, the spool and the report workers need theirs). Counted on the raw TCP
 * connection, before TLS or MQTT, and released when it closes.
 */
export class ConnectionLimits {
  private total = 0;
  private readonly perAddress = new Map<string, number>();

  constructor(
    private readonly maxTotal: number,
    private readonly maxPerAddress: number,
  ) {}

  /** Admit `socket` (counted until it closes) or say why not. */
  admit(socket: Socket): { ok: true } | { ok: false; reason: 'max_connections' | 'max_connections_per_address'; address: string } {
    const address = normalizeAddress(socket.remoteAddress);
    if (this.total >= this.maxTotal) return { ok: false, reason: 'max_connections', address };
    const n = this.perAddress.get(address) ?? 0;
    if (n >= this.maxPerAddress) return { ok: false, reason: 'max_connections_per_address', address };
    this.total++;
    this.perAddress.set(address, n + 1);
    socket.once('close', () => {
      this.total--;
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left > 0) this.perAddress.set(address, left);
      else this.perAddress.delete(address);
    });
    return { ok: true };
  }

  connections(): number {
    return this.total;
  }

  get limit(): number {
    return this.maxTotal;
  }
}

/** `::ffff:10.0.0.5` → `10.0.0.5`; unknown (already closed) → `unknown`. */
export function normalizeAddress(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/**
 * This process's open-files limit (soft, i.e. the one enforced), or undefined where it
 * cannot be read (not Linux). Node raises the soft limit to the hard one at start, so
 * this is what the collector can have; raising the hard limit needs the service manager
 * (`LimitNOFILE=` in a systemd unit, `ulimit -Hn` as root, Docker `--ulimit nofile=`).
 */
export function openFilesLimit(procLimitsFile = '/proc/self/limits'): number | undefined {
  try {
    const line = readFileSync(procLimitsFile, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    if (soft === undefined) return undefined;
    if (soft === 'unlimited') return Number.MAX_SAFE_INTEGER;
    const n = Number(soft);
    return Number.isSafeInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

export interface ConnectionBudget {
  /** Connections the broker accepts at once. */
  max: number;
  /** The open-files limit, when known. */
  fileLimit: number | undefined;
  /** Why `max` is below the configured `maxConnections` or the known PCs, for a start-up warning. */
  warning: string | undefined;
}

/**
 * How many connections the broker may hold: the configured `maxConnections`, but never
 * more than the open-files limit less `reserved` descriptors; with a warning when that
 * is below the configuration or below the PCs the collector knows.
 */
export function connectionBudget(maxConnections: number, reserved: number, knownHosts: number, fileLimit: number | undefined): ConnectionBudget {
  if (fileLimit === undefined) return { max: maxConnections, fileLimit, warning: undefined };
  const room = Math.max(0, fileLimit - reserved);
  const max = Math.min(maxConnections, room);
  const need = Math.max(knownHosts, 0);
  let warning: string | undefined;
  if (max < need) {
    warning =
      `the open-files limit (${fileLimit}) is too low for the ${need} PCs known: ${reserved} descriptors are kept for HTTP and the store, ` +
      `so the embedded broker accepts only ${max} connections; raise it (systemd LimitNOFILE=${need + reserved + 1024}, or ulimit -n before npm start)`;
  } else if (max < maxConnections) {
    warning =
      `the open-files limit (${fileLimit}) caps the embedded broker at ${max} connections (broker.embedded.maxConnections is ${maxConnections}, ` +
      `${reserved} descriptors are kept for HTTP and the store); raise it (systemd LimitNOFILE=, or ulimit -n) for more PCs`;
  }
  return { max, fileLimit, warning };
}
