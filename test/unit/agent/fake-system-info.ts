import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { PingResponse } from 'ping';
import { silentLogger } from '../../../common/log.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { AgentConfigSchema, type AgentConfig } from '../../../agent/config.js';
import type { SourceContext } from '../../../agent/sampling/sources/source.js';
import { parseMeminfo, parseProcMounts, parseProcNetDev, parseProcStat } from '../../../agent/platform/linux-proc-parsers.js';
import { parseDiskstats, parsePsiMemory, parseVmstat, parseWindowsPerf, type DiskIoCounters, type VmstatCounters } from '../../../agent/platform/disk-pressure-parsers.js';
import { fsUsageFromStatfs, statfsPath } from '../../../agent/platform/node-os-system-info.js';
import { cpuTimesFromOsCpus, memoryFromSi, mountsFromSiFsSize, netCountersFromSi, pingReadingFromResponse } from '../../../agent/platform/si-system-info.js';
import type { CpuInfo, CpuTimes, DiskLayoutEntry, FsUsage, MemoryReading, MountEntry, NetCounters, OsInfo, PingReading, SystemInfo } from '../../../agent/platform/system-info.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/os/', import.meta.url));

export function fixtureText(path: string): string {
  return readFileSync(FIXTURES + path, 'utf8');
}
export function fixtureJson<T = unknown>(path: string): T {
  return JSON.parse(fixtureText(path)) as T;
}

/**
 * Runs recorded ping output through the `ping` package's own argument builder and
 * output parser (what `ping.promise.probe` does after the child exits), so the Windows
 * and Linux parsers' quirks are part of the test.
 */
export function parsePingOutput(output: string, platform: 'linux' | 'win32', target: string, count: number): PingResponse {
  const require = createRequire(import.meta.url);
  const builders = require('ping/lib/builder/factory') as { createBuilder(p: string): { getCommandArguments(t: string, c: object): string[] } };
  const parsers = require('ping/lib/parser/factory') as {
    createParser(t: string, p: string, c: object): { eat(line: string): void; getResult(): PingResponse };
  };
  const config = { min_reply: count, timeout: 2 };
  // The builder fills in defaults (packet size) that the Windows parser relies on.
  builders.createBuilder(platform).getCommandArguments(target, config);
  const parser = parsers.createParser(target, platform, config);
  output.split('\n').forEach((line) => parser.eat(line));
  return parser.getResult();
}

/** Readings that advance: each call returns the next one, the last one repeats. */
function sequence<T>(items: readonly T[]): () => T {
  let i = 0;
  return () => {
    const item = items[Math.min(i, items.length - 1)];
    i++;
    if (item === undefined) throw new Error('fake has no reading');
    return item;
  };
}

/** A SystemInfo whose every reading is a plain value or function; tests override what they need. */
export class FakeSystemInfo implements SystemInfo {
  platform: NodeJS.Platform = 'linux';
  cpuTimesSeq: () => CpuTimes = sequence<CpuTimes>([]);
  cores = 2;
  load: readonly [number, number, number] | null = [0, 0, 0];
  mem: MemoryReading = { total: 0, available: 0, swapTotal: 0, swapUsed: 0 };
  mountList: MountEntry[] = [];
  fsByPath = new Map<string, FsUsage>();
  netSeq: () => NetCounters[] = sequence<NetCounters[]>([[]]);
  uptime = 0;
  gateway: string | null = null;
  /** Ping readings by target. */
  pings = new Map<string, PingReading>();
  cpu: CpuInfo = { manufacturer: '', brand: '', cores: 0, physicalCores: 0, speed: 0 };
  disks: DiskLayoutEntry[] = [];
  os: OsInfo = { platform: '', distro: '', release: '', arch: '', kernel: '' };
  /** Calls per method, to check what the sources cache. */
  calls: Record<string, number> = {};

  private count(name: string): void {
    this.calls[name] = (this.calls[name] ?? 0) + 1;
  }

  async cpuTimes() {
    this.count('cpuTimes');
    return this.cpuTimesSeq();
  }
  async cpuCount() {
    this.count('cpuCount');
    return this.cores;
  }
  async loadAverage() {
    return this.load;
  }
  async memory() {
    return this.mem;
  }
  async mounts() {
    this.count('mounts');
    return this.mountList;
  }
  async fsUsage(mount: string) {
    const usage = this.fsByPath.get(statfsPath(mount));
    if (!usage) throw Object.assign(new Error(`ENOENT: no such file or directory, statfs '${mount}'`), { code: 'ENOENT' });
    return usage;
  }
  async netCounters() {
    return this.netSeq();
  }
  async uptimeSeconds() {
    return this.uptime;
  }
  async defaultGateway() {
    this.count('defaultGateway');
    return this.gateway;
  }
  async ping(target: string) {
    this.count('ping');
    const reading = this.pings.get(target);
    if (!reading) throw new Error(`no ping fixture for ${target}`);
    return reading;
  }
  async cpuInfo() {
    return this.cpu;
  }
  async diskLayout() {
    return this.disks;
  }
  async osInfo() {
    return this.os;
  }
  /** Battery/UPS reading (power source); `unknown` like a desktop without a UPS link. */
  power: import('../../../contract/schemas.js').PowerMetrics = { source: 'unknown', batteryPct: null, minutesLeft: null };
  async powerSupply() {
    return this.power;
  }
  /** Disk activity and memory pressure (issue 17): set per platform below; absent = the OS has none. */
  diskIoCounters?: () => Promise<DiskIoCounters[]>;
  psiMemory?: () => Promise<{ some: number | null; full: number | null }>;
  vmstat?: () => Promise<VmstatCounters>;
  windowsPerf?: () => Promise<ReturnType<typeof parseWindowsPerf>>;
}

/** This Linux machine, as recorded in test/fixtures/os/linux. */
export function linuxFixtureSystem(): FakeSystemInfo {
  const sys = new FakeSystemInfo();
  sys.platform = 'linux';
  sys.cpuTimesSeq = sequence([parseProcStat(fixtureText('linux/proc-stat.1.txt')), parseProcStat(fixtureText('linux/proc-stat.2.txt'))]);
  sys.cores = fixtureJson<unknown[]>('linux/os-cpus.json').length;
  const [l1 = 0, l5 = 0, l15 = 0] = fixtureJson<number[]>('linux/os-loadavg.json');
  sys.load = [l1, l5, l15];
  sys.mem = parseMeminfo(fixtureText('linux/proc-meminfo.txt'));
  sys.mountList = parseProcMounts(fixtureText('linux/proc-self-mounts.txt'));
  sys.fsByPath.set('/', fsUsageFromStatfs(fixtureJson('linux/statfs-root.json')));
  sys.netSeq = sequence([parseProcNetDev(fixtureText('linux/proc-net-dev.1.txt')), parseProcNetDev(fixtureText('linux/proc-net-dev.2.txt'))]);
  sys.uptime = Number(fixtureText('linux/proc-uptime.txt').split(' ')[0]);
  sys.gateway = fixtureJson<string>('linux/si-networkGatewayDefault.json');
  const linuxPing = (file: string, target: string, count: number) => pingReadingFromResponse(parsePingOutput(fixtureText(`linux/${file}`), 'linux', target, count), count);
  sys.pings.set('192.0.2.1', linuxPing('ping-192.0.2.1-gateway.txt', '192.0.2.1', 4));
  sys.pings.set('127.0.0.1', linuxPing('ping-127.0.0.1-c4.txt', '127.0.0.1', 4));
  sys.pings.set('10.255.255.1', linuxPing('ping-10.255.255.1-100loss.txt', '10.255.255.1', 4));
  sys.cpu = fixtureJson('linux/si-cpu.json');
  sys.disks = fixtureJson('linux/si-diskLayout.json');
  sys.os = fixtureJson('linux/si-osInfo.json');
  const diskstats = sequence([parseDiskstats(fixtureText('linux/proc-diskstats.1.txt')), parseDiskstats(fixtureText('linux/proc-diskstats.2.txt'))]);
  const vmstat = sequence([parseVmstat(fixtureText('linux/proc-vmstat.1.txt')), parseVmstat(fixtureText('linux/proc-vmstat.2.txt'))]);
  sys.diskIoCounters = async () => diskstats();
  sys.vmstat = async () => vmstat();
  sys.psiMemory = async () => parsePsiMemory(fixtureText('linux/proc-pressure-memory.txt'));
  return sys;
}

/** A Windows 10 office PC, in the shapes systeminformation / node:os / ping.exe give there. */
export function windowsFixtureSystem(): FakeSystemInfo {
  const sys = new FakeSystemInfo();
  sys.platform = 'win32';
  const cpus1 = fixtureJson<{ times: import('node:os').CpuInfo['times'] }[]>('windows/os-cpus.1.json');
  const cpus2 = fixtureJson<{ times: import('node:os').CpuInfo['times'] }[]>('windows/os-cpus.2.json');
  sys.cpuTimesSeq = sequence([cpuTimesFromOsCpus(cpus1, 'win32'), cpuTimesFromOsCpus(cpus2, 'win32')]);
  sys.cores = cpus1.length;
  sys.load = null;
  sys.mem = memoryFromSi(fixtureJson('windows/si-mem.json'));
  sys.mountList = mountsFromSiFsSize(fixtureJson('windows/si-fsSize.json'));
  const statfs = fixtureJson<Record<string, { bsize: number; blocks: number; bfree: number; bavail: number }>>('windows/statfs.json');
  for (const [path, s] of Object.entries(statfs)) sys.fsByPath.set(path, fsUsageFromStatfs(s));
  sys.netSeq = sequence([netCountersFromSi(fixtureJson('windows/si-networkStats.1.json')), netCountersFromSi(fixtureJson('windows/si-networkStats.2.json'))]);
  sys.uptime = fixtureJson<number>('windows/os-uptime.json');
  sys.gateway = '192.168.1.1';
  const winPing = (file: string, target: string) => pingReadingFromResponse(parsePingOutput(fixtureText(`windows/${file}`), 'win32', target, 4), 4);
  sys.pings.set('192.168.1.1', winPing('ping-192.168.1.1-ok.txt', '192.168.1.1'));
  sys.pings.set('8.8.8.8', winPing('ping-8.8.8.8-50loss.txt', '8.8.8.8'));
  sys.pings.set('10.0.0.99', winPing('ping-10.0.0.99-timeout.txt', '10.0.0.99'));
  sys.pings.set('192.168.1.250', winPing('ping-192.168.1.250-unreachable.txt', '192.168.1.250'));
  sys.cpu = fixtureJson('windows/si-cpu.json');
  sys.disks = fixtureJson('windows/si-diskLayout.json');
  sys.os = fixtureJson('windows/si-osInfo.json');
  sys.windowsPerf = async () => parseWindowsPerf(fixtureText('windows/disk-health/perf-counters.json'));
  return sys;
}

export function testConfig(overrides: Record<string, unknown> = {}): AgentConfig {
  return AgentConfigSchema.parse({ site: 'xa-an-binh', host: 'pc-01', mqtt: { password: 'test' }, ...overrides });
}

export function context(sys: SystemInfo, opts: { config?: AgentConfig; clock?: FakeClock } = {}): SourceContext & { clock: FakeClock } {
  return { sys, config: opts.config ?? testConfig(), clock: opts.clock ?? new FakeClock(), log: silentLogger() };
}
