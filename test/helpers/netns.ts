/**
 * A network namespace with a veth link to the host, for tests that cut or degrade the
 * network of real agent processes (issue 3: LAN vs WAN cut; issue 4: congestion):
 *
 *   namespace (agent)  10.A.B.2/24 ── veth ── 10.A.B.1/24 host side = the agent's default gateway
 *                                                └─ 10.A.C.x/32 "beyond the gateway" (broker, internet)
 *
 * Host-side addresses are local to the host, so nothing is forwarded and no host firewall
 * or sysctl changes; the namespace's own iptables (its OUTPUT chain) does the cutting, e.g.
 * `lab.drop(lab.gateway)` or `lab.drop(ip, { probability: 0.3 })` for random loss.
 * Names and subnets are unique per run; `destroy()` removes everything (also on exit).
 * Needs root, `ip` (iproute2) and `iptables`; fails with how to install them otherwise.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface NetnsLab {
  /** Namespace name (`ip netns exec <name> …`). */
  readonly name: string;
  /** Host side of the link: the namespace's default gateway. */
  readonly gateway: string;
  /** The namespace's own address. */
  readonly address: string;
  /** Prefix that runs a command inside the namespace (startAgentBundle's `prefix`). */
  readonly prefix: readonly string[];
  /** A new host address beyond the gateway (routed through it from the namespace). */
  addHostAddress(): string;
  /** Runs a command inside the namespace; returns stdout; throws with stderr on failure. */
  exec(cmd: readonly string[]): string;
  /** `iptables <args>` inside the namespace. */
  iptables(...args: string[]): void;
  /** Drop packets from the namespace to `dest` (all of them, or a random share). */
  drop(dest: string, opts?: { probability?: number }): void;
  /** Remove every iptables rule in the namespace (the link is whole again). */
  heal(): void;
  destroy(): void;
}

let counter = 0;
const live = new Set<NetnsLab>();
let exitHook = false;

function run(cmd: string, args: readonly string[]): string {
  try {
    return execFileSync(cmd, args as string[], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`, { cause: err });
  }
}

/** Throws, saying how to fix it, when namespaces cannot be made here. */
export function assertNetnsAvailable(): void {
  const missing = [
    ['/usr/sbin/ip', 'iproute2'],
    ['/usr/sbin/iptables', 'iptables'],
  ].filter(([bin]) => !existsSync(bin!) && !existsSync(bin!.replace('/usr/sbin', '/sbin')));
  if (missing.length) throw new Error(`network-namespace tests need ${missing.map((m) => m[1]).join(' and ')}: apt-get install -y ${missing.map((m) => m[1]).join(' ')}`);
  if (typeof process.getuid === 'function' && process.getuid() !== 0) throw new Error('network-namespace tests need root (CAP_NET_ADMIN): run the suite as root');
}

/** A /24 for the link and one for "beyond the gateway", neither in use on this host. */
function freeSubnets(): [string, string] {
  const used = run('ip', ['-4', '-o', 'addr', 'show']) + run('ip', ['-4', 'route', 'show', 'table', 'all']);
  for (let i = 0; i < 200; i++) {
    const a = 100 + Math.floor(Math.random() * 100);
    const b = Math.floor(Math.random() * 127) * 2;
    const link = `10.${a}.${b}`;
    const beyond = `10.${a}.${b + 1}`;
    if (!used.includes(`${link}.`) && !used.includes(`${beyond}.`)) return [link, beyond];
  }
  throw new Error('no free 10.x.y.0/24 pair for a test namespace');
}

export function createNetnsLab(): NetnsLab {
  assertNetnsAvailable();
  const id = `${process.pid.toString(36)}${(counter++).toString(36)}`;
  const name = `canh-test-${id}`;
  const hostIf = `cn${id}h`.slice(0, 15);
  const nsIf = `cn${id}n`.slice(0, 15);
  const [link, beyond] = freeSubnets();
  const gateway = `${link}.1`;
  const address = `${link}.2`;
  const hostAddrs: string[] = [];
  const inNs = (cmd: readonly string[]) => run('ip', ['netns', 'exec', name, ...cmd]);

  let destroyed = false;
  const lab: NetnsLab = {
    name,
    gateway,
    address,
    prefix: ['ip', 'netns', 'exec', name],
    addHostAddress() {
      const ip = `${beyond}.${hostAddrs.length + 1}`;
      run('ip', ['addr', 'add', `${ip}/32`, 'dev', hostIf]);
      hostAddrs.push(ip);
      return ip;
    },
    exec: inNs,
    iptables(...args) {
      inNs(['iptables', '-w', ...args]);
    },
    drop(dest, opts = {}) {
      const random = opts.probability !== undefined ? ['-m', 'statistic', '--mode', 'random', '--probability', String(opts.probability)] : [];
      lab.iptables('-A', 'OUTPUT', '-d', dest, ...random, '-j', 'DROP');
    },
    heal() {
      lab.iptables('-F', 'OUTPUT');
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      live.delete(lab);
      // Deleting the namespace deletes its veth end and with it the host end.
      spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
      spawnSync('ip', ['link', 'del', hostIf], { stdio: 'ignore' });
    },
  };
  live.add(lab);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const l of [...live]) l.destroy();
    });
  }
  try {
    run('ip', ['netns', 'add', name]);
    run('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf]);
    run('ip', ['link', 'set', nsIf, 'netns', name]);
    run('ip', ['addr', 'add', `${gateway}/24`, 'dev', hostIf]);
    run('ip', ['link', 'set', hostIf, 'up']);
    inNs(['ip', 'addr', 'add', `${address}/24`, 'dev', nsIf]);
    inNs(['ip', 'link', 'set', nsIf, 'up']);
    inNs(['ip', 'link', 'set', 'lo', 'up']);
    inNs(['ip', 'route', 'add', 'default', 'via', gateway]);
  } catch (err) {
    lab.destroy();
    throw err;
  }
  return lab;
}
