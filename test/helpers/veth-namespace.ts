/**
 * A network namespace joined to the host by a veth pair, for tests that shape an office
 * network (packet loss with iptables `-m statistic`). Names are unique per test process;
 * `cleanup()` removes the namespace (which removes the veth pair and its iptables rules)
 * and is safe to call twice. Needs root (`ip`, `iptables`: apt-get install iproute2 iptables).
 *
 * Addresses: a /29 on the pair: host side `.1` (where the collector's broker listens),
 * namespace side `.2` (the agents), and `.3` on the host side as a ping target ("the ISP")
 * whose packets can be dropped without touching the MQTT traffic to `.1`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface VethNamespace {
  name: string;
  hostIp: string;
  nsIp: string;
  targetIp: string;
  /** Run a command inside the namespace (synchronously). */
  exec(args: string[]): string;
  /** Drop this share (0..1) of every packet sent from the namespace to `ip`. */
  dropTo(ip: string, probability: number): void;
  /** Remove every drop rule. */
  clearDrops(): void;
  spawnArgs(cmd: string, args: string[]): { cmd: string; args: string[] };
  cleanup(): void;
}

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function requireNetworkTools(): void {
  for (const bin of ['/usr/sbin/ip', '/usr/sbin/iptables']) {
    if (!existsSync(bin)) throw new Error(`${bin} missing: install it as root with \`apt-get install -y iproute2 iptables\``);
  }
  if (typeof process.getuid === 'function' && process.getuid() !== 0) throw new Error('network namespace tests need root (ip netns, iptables)');
}

let counter = 0;

export function createVethNamespace(): VethNamespace {
  requireNetworkTools();
  const id = `${process.pid % 10_000}${++counter}`;
  const name = `canh-cg${id}`;
  const hostIf = `vcg${id}h`.slice(0, 15);
  const nsIf = `vcg${id}n`.slice(0, 15);
  // A /29 inside 10.201.0.0/16 chosen from the pid, so parallel runs do not collide.
  const n = (process.pid * 4 + counter) % 8000;
  const third = Math.floor(n / 32);
  const fourth = (n % 32) * 8;
  const ip = (k: number) => `10.201.${third}.${fourth + k}`;
  const hostIp = ip(1);
  const nsIp = ip(2);
  const targetIp = ip(3);
  const cleanup = () => {
    try {
      run('ip', ['netns', 'del', name]);
    } catch {
      /* already gone */
    }
    try {
      run('ip', ['link', 'del', hostIf]);
    } catch {
      /* removed with the namespace */
    }
  };
  cleanup();
  try {
    run('ip', ['netns', 'add', name]);
    run('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf]);
    run('ip', ['link', 'set', nsIf, 'netns', name]);
    run('ip', ['addr', 'add', `${hostIp}/29`, 'dev', hostIf]);
    run('ip', ['addr', 'add', `${targetIp}/29`, 'dev', hostIf]);
    run('ip', ['link', 'set', hostIf, 'up']);
    run('ip', ['netns', 'exec', name, 'ip', 'addr', 'add', `${nsIp}/29`, 'dev', nsIf]);
    run('ip', ['netns', 'exec', name, 'ip', 'link', 'set', nsIf, 'up']);
    run('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
    run('ip', ['netns', 'exec', name, 'ip', 'route', 'add', 'default', 'via', hostIp]);
  } catch (err) {
    cleanup();
    throw err;
  }
  const exec = (args: string[]) => run('ip', ['netns', 'exec', name, ...args]);
  return {
    name,
    hostIp,
    nsIp,
    targetIp,
    exec,
    dropTo(dest, probability) {
      exec(['iptables', '-A', 'OUTPUT', '-d', dest, '-m', 'statistic', '--mode', 'random', '--probability', String(probability), '-j', 'DROP']);
    },
    clearDrops() {
      exec(['iptables', '-F', 'OUTPUT']);
    },
    spawnArgs(cmd, args) {
      return { cmd: 'ip', args: ['netns', 'exec', name, cmd, ...args] };
    },
    cleanup,
  };
}
