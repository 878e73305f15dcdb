import { connect } from 'node:net';
import type { Clock } from '../../common/clock.js';

/**
 * Is a host reachable? A TCP connection attempt, no child process and no raw socket: an
 * accepted connection or a refusal (RST) both prove the path works; a timeout or an ICMP
 * "unreachable" do not.
 */
export interface ReachabilityProbe {
  reachable(host: string, port: number, timeoutMs: number): Promise<boolean>;
}

/** Errors that still prove the host answered. */
const ANSWERED = new Set(['ECONNREFUSED', 'ECONNRESET']);

export class TcpReachabilityProbe implements ReachabilityProbe {
  constructor(private readonly clock: Clock) {}

  reachable(host: string, port: number, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      let done = false;
      const socket = connect({ host, port });
      const finish = (ok: boolean) => {
        if (done) return;
        done = true;
        this.clock.clear(timer);
        socket.destroy();
        resolve(ok);
      };
      const timer = this.clock.setTimeout(() => finish(false), timeoutMs);
      socket.once('connect', () => finish(true));
      socket.once('error', (err: NodeJS.ErrnoException) => finish(ANSWERED.has(err.code ?? '')));
    });
  }
}

/** `host:port` or `[v6]:port` → parts; null when malformed. */
export function parseHostPort(s: string): { host: string; port: number } | null {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(s) ?? /^([^:]+):(\d{1,5})$/.exec(s);
  if (!m) return null;
  const port = Number(m[2]);
  return port >= 1 && port <= 65535 ? { host: m[1]!, port } : null;
}
