import { EventEmitter } from 'node:events';
import { chmodSync, closeSync, constants, existsSync, lstatSync, mkdtempSync, openSync, readFileSync, readlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ContinuousPing, parsePingLine, type PingProcess } from '../../../../agent/platform/continuous-ping.js';
import { LinuxSystemInfo } from '../../../../agent/platform/linux-system-info.js';
import type { PingChildRecord } from '../../../../agent/platform/ping-children.js';
import { systemClock } from '../../../../common/clock.js';
import { silentLogger } from '../../../../common/log.js';
import { FakeClock } from '../../../helpers/fake-clock.js';
import { waitFor } from '../../../helpers/wait.js';

class FakePing extends EventEmitter {
  stdout = new PassThrough();
  stderr = new PassThrough();
  exitCode: number | null = null;
  args: string[] = [];
  write(text: string) {
    this.stdout.write(text);
  }
  kill() {
    this.exitCode = 0;
    this.emit('close', 0);
    return true;
  }
  die(code: number) {
    this.exitCode = code;
    this.emit('close', code);
  }
}

function setup() {
  const clock = new FakeClock();
  const procs: FakePing[] = [];
  const pinger = new ContinuousPing({
    target: '192.0.2.1',
    probeIntervalSeconds: 3.75,
    clock,
    log: silentLogger(),
    spawnPing: (args) => {
      const p = new FakePing();
      p.args = args;
      procs.push(p);
      return p as unknown as PingProcess;
    },
  });
  return { clock, procs, pinger };
}
const tick = () => new Promise((r) => setImmediate(r));

describe('parsePingLine (iputils ping -n -O)', () => {
  it('reads the recorded loopback run', () => {
    const lines = readFileSync(new URL('../../../fixtures/os/linux/ping-continuous-loopback.txt', import.meta.url), 'utf8').split('\n');
    const parsed = lines.map(parsePingLine).filter((p) => p && 'time' in p) as Array<{ seq: number; time: number }>;
    expect(parsed.map((p) => p.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(parsed.every((p) => p.time > 0 && p.time < 5)).toBe(true);
  });
  it('reads replies, unanswered probes and fatal errors', () => {
    expect(parsePingLine('64 bytes from 192.168.1.1: icmp_seq=12 ttl=64 time=3.41 ms')).toEqual({ seq: 12, time: 3.41 });
    expect(parsePingLine('no answer yet for icmp_seq=13')).toEqual({ seq: 13, lost: true });
    expect(parsePingLine('ping: connect: Network is unreachable')).toEqual({ failed: 'Network is unreachable' });
    expect(parsePingLine('PING 192.168.1.1 (192.168.1.1) 56(84) bytes of data.')).toBeUndefined();
  });
});

describe('ContinuousPing', () => {
  it('spreads probes over the interval and reports each window once', async () => {
    const { procs, pinger } = setup();
    pinger.start();
    expect(procs[0]!.args).toEqual(['-n', '-O', '-i', '3.75', '-W', '4', '192.0.2.1']);
    procs[0]!.write(
      '64 bytes from 192.0.2.1: icmp_seq=1 ttl=64 time=1.5 ms\n64 bytes from 192.0.2.1: icmp_seq=2 ttl=64 time=2.5 ms\nno answer yet for icmp_seq=3\n64 bytes from 192.0.2.1: icmp_seq=4 ttl=64 time=40.0 ms\n',
    );
    await tick();
    expect(pinger.take()).toEqual({ sent: 4, times: [1.5, 2.5, 40] });
    expect(pinger.take()).toEqual({ sent: 0, times: [] });
    await pinger.stop();
  });

  it('a late reply within the window turns a loss into a reply; after the window it is ignored', async () => {
    const { procs, pinger } = setup();
    pinger.start();
    const p = procs[0]!;
    p.write('no answer yet for icmp_seq=1\n64 bytes from 192.0.2.1: icmp_seq=1 ttl=64 time=4100 ms\nno answer yet for icmp_seq=2\n');
    await tick();
    expect(pinger.take()).toEqual({ sent: 2, times: [4100] });
    p.write('64 bytes from 192.0.2.1: icmp_seq=2 ttl=64 time=5000 ms\n64 bytes from 192.0.2.1: icmp_seq=3 ttl=64 time=2 ms\n');
    await tick();
    expect(pinger.take()).toEqual({ sent: 1, times: [2] });
    await pinger.stop();
  });

  it('ignores duplicate replies (DUP!) and lines split across chunks', async () => {
    const { procs, pinger } = setup();
    pinger.start();
    procs[0]!.write('64 bytes from 192.0.2.1: icmp_seq=1 ttl=64 ti');
    await tick();
    procs[0]!.write('me=1.0 ms\n64 bytes from 192.0.2.1: icmp_seq=1 ttl=64 time=1.1 ms (DUP!)\n');
    await tick();
    expect(pinger.take()).toEqual({ sent: 1, times: [1] });
    await pinger.stop();
  });

  it('restarts a ping that exits, with backoff, and says why it is down', async () => {
    const { clock, procs, pinger } = setup();
    pinger.start();
    procs[0]!.write('ping: connect: Network is unreachable\n');
    await tick();
    procs[0]!.die(2);
    expect(pinger.running()).toBe(false);
    expect(pinger.lastError).toBe('Network is unreachable');
    clock.advance(1999);
    expect(procs).toHaveLength(1);
    clock.advance(1);
    expect(procs).toHaveLength(2);
    expect(pinger.running()).toBe(true);
    await pinger.stop();
  });
});

describe('ContinuousPing through a FIFO (the real spawn path, a stand-in ping)', () => {
  /** A stand-in iputils ping: a reply every 0.1 s for `n` probes, then (optionally) a fatal line and exit 2. */
  function standIn(dir: string, n: number, fatal: boolean): string {
    const bin = join(dir, 'fake-ping');
    writeFileSync(
      bin,
      `#!/bin/sh\ni=1\nwhile [ $i -le ${n} ]; do echo "64 bytes from 192.0.2.1: icmp_seq=$i ttl=64 time=0.$i ms"; i=$((i+1)); sleep 0.1; done\n${fatal ? 'echo "ping: connect: Network is unreachable"; exit 2\n' : 'exec sleep 30\n'}`,
    );
    chmodSync(bin, 0o755);
    return bin;
  }
  const pids: number[] = [];
  const children = { add: (pid: number | undefined) => pid && pids.push(pid), remove: () => undefined } as unknown as PingChildRecord;

  it.runIf(process.platform === 'linux')('ping writes into the FIFO, read at take(): every reply, the same window', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'canh-ping-fifo-'));
    const fifo = join(dir, 'ping-192.0.2.1.fifo');
    const pinger = new ContinuousPing({ target: '192.0.2.1', probeIntervalSeconds: 0.2, clock: systemClock, log: silentLogger(), binary: standIn(dir, 5, false), children, fifo });
    pinger.start();
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    // The child's stdout is the FIFO, not a pipe the event loop reads as it writes.
    const pid = pids.at(-1)!;
    await waitFor(() => existsSync(`/proc/${pid}/fd/1`));
    expect(readlinkSync(`/proc/${pid}/fd/1`)).toBe(fifo);
    await new Promise((r) => setTimeout(r, 1200));
    const w = pinger.take();
    expect(w.sent).toBe(5);
    expect(w.times).toEqual([0.1, 0.2, 0.3, 0.4, 0.5]);
    expect(pinger.take()).toEqual({ sent: 0, times: [] });
    await pinger.stop();
    expect(existsSync(fifo)).toBe(false);
  });

  it.runIf(process.platform === 'linux')('a backlog larger than one read (40 KiB waiting in the FIFO) is read whole at take(), by two pingers in turn', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'canh-ping-fifo-'));
    /** 600 replies at once (~40 KiB: more than one 16 KiB read, less than the 64 KiB a FIFO holds), then quiet. */
    const burst = (name: string, ms: string) => {
      const bin = join(dir, name);
      writeFileSync(bin, `#!/bin/sh\ni=1\nwhile [ $i -le 600 ]; do echo "64 bytes from 192.0.2.1: icmp_seq=$i ttl=64 time=${ms} ms"; i=$((i+1)); done\nexec sleep 30\n`);
      chmodSync(bin, 0o755);
      return bin;
    };
    const a = new ContinuousPing({
      target: '192.0.2.1',
      probeIntervalSeconds: 0.2,
      clock: systemClock,
      log: silentLogger(),
      binary: burst('a', '1.5'),
      children,
      fifo: join(dir, 'a.fifo'),
    });
    const b = new ContinuousPing({
      target: '192.0.2.2',
      probeIntervalSeconds: 0.2,
      clock: systemClock,
      log: silentLogger(),
      binary: burst('b', '2.5'),
      children,
      fifo: join(dir, 'b.fifo'),
    });
    a.start();
    b.start();
    await new Promise((r) => setTimeout(r, 1500));
    const wa = a.take();
    const wb = b.take();
    expect(wa.sent).toBe(600);
    expect(new Set(wa.times)).toEqual(new Set([1.5]));
    expect(wb.sent).toBe(600);
    expect(new Set(wb.times)).toEqual(new Set([2.5]));
    await Promise.all([a.stop(), b.stop()]);
  });

  it.runIf(process.platform === 'linux')('a ping that exits: its last lines are read from the FIFO (why it is down), and the restart gets a new FIFO', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'canh-ping-fifo-'));
    const fifo = join(dir, 'ping-x.fifo');
    const pinger = new ContinuousPing({ target: '192.0.2.1', probeIntervalSeconds: 0.2, clock: systemClock, log: silentLogger(), binary: standIn(dir, 2, true), children, fifo });
    const launches = pids.length;
    pinger.start();
    // A writer on the first FIFO that outlives that ping (as a ping still exiting would).
    const stray = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    try {
      await waitFor(() => !pinger.running(), { timeoutMs: 5000 });
      expect(pinger.lastError).toBe('Network is unreachable');
      expect(pinger.take()).toEqual({ sent: 2, times: [0.1, 0.2] });
      // Restarted after its back-off, on a FIFO of its own: the stray writer's line never reaches it.
      await waitFor(() => pids.length >= launches + 2, { timeoutMs: 6000 });
      try {
        writeSync(stray, '64 bytes from 192.0.2.1: icmp_seq=999 ttl=64 time=9.9 ms\n');
      } catch {
        // EPIPE: nobody reads the old FIFO any more
      }
      await waitFor(() => !pinger.running(), { timeoutMs: 5000 });
      expect(pinger.take()).toEqual({ sent: 2, times: [0.1, 0.2] });
    } finally {
      closeSync(stray);
      await pinger.stop();
    }
  });

  it.runIf(process.platform === 'linux')('no FIFO possible (its folder is missing): an ordinary pipe, the same replies', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'canh-ping-fifo-'));
    const pinger = new ContinuousPing({
      target: '192.0.2.1',
      probeIntervalSeconds: 0.2,
      clock: systemClock,
      log: silentLogger(),
      binary: standIn(dir, 3, false),
      children,
      fifo: join(dir, 'missing', 'p.fifo'),
    });
    pinger.start();
    await new Promise((r) => setTimeout(r, 800));
    expect(pinger.take()).toEqual({ sent: 3, times: [0.1, 0.2, 0.3] });
    await pinger.stop();
  });
});

describe('LinuxSystemInfo.ping (the agent on Linux): the real ping of 127.0.0.1 through a FIFO in the state dir', () => {
  it.runIf(process.platform === 'linux')('a FIFO per target while it runs, every probe in the window, the FIFO gone after stop', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'canh-ping-state-'));
    const sys = new LinuxSystemInfo({ clock: systemClock, log: silentLogger(), stateDir, pingProbeIntervalSeconds: 0.2 });
    try {
      expect(await sys.ping('127.0.0.1', 4)).toEqual({ sent: 0, times: [] }); // starts it
      const fifo = join(stateDir, 'ping-127.0.0.1.fifo');
      expect(lstatSync(fifo).isFIFO()).toBe(true);
      await new Promise((r) => setTimeout(r, 1500));
      const w = await sys.ping('127.0.0.1', 4);
      expect(w.sent).toBeGreaterThanOrEqual(4);
      expect(w.times.length).toBe(w.sent);
      await sys.stop();
      expect(existsSync(fifo)).toBe(false);
    } finally {
      await sys.stop();
    }
  });
});
