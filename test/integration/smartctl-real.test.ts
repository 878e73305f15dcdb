/**
 * Disk health (issue 17 point 1) against the REAL smartctl (smartmontools, installed by
 * `npm test`'s prerequisites) on this machine's own disks: its JSON output, whatever this
 * machine's disks are, is parsed without error into a coherent result. The fixtures of
 * test/unit/agent/disk-health are the shapes of disks with SMART; this is the real binary.
 * On a VM with virtio disks smartctl finds no SMART device: the check says so, naming
 * smartctl (it ran), never "not installed". Fails (does not skip) without smartctl.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DiskHealthUnavailable, LinuxDiskHealthReader } from '../../agent/disk-health/disk-health-reader.js';
import { parseSmartctlJson, parseSmartctlScan } from '../../agent/disk-health/smartctl.js';
import { DiskHealth } from '../../contract/schemas.js';

const SMARTCTL = '/usr/sbin/smartctl';

function run(args: string[]): string {
  try {
    return execFileSync(SMARTCTL, args, { encoding: 'utf8', timeout: 20_000 });
  } catch (err) {
    // smartctl's exit status is a bit mask (e.g. 1: device open failed); the JSON is on stdout.
    const out = (err as { stdout?: string }).stdout;
    if (typeof out === 'string' && out.length > 0) return out;
    throw err;
  }
}

describe('smartctl, the real binary, on this machine', { timeout: 60_000 }, () => {
  it('is installed (npm test installs smartmontools)', () => {
    expect(() => accessSync(SMARTCTL, constants.X_OK)).not.toThrow();
  });

  it('its --scan JSON parses into a device list', () => {
    const devices = parseSmartctlScan(run(['-j', '--scan']));
    expect(Array.isArray(devices)).toBe(true);
    for (const d of devices) {
      expect(d.name).toMatch(/^\/dev\//);
      expect(typeof d.type).toBe('string');
    }
  });

  it("each block disk's -a JSON (never waking a standby disk) parses into a coherent health", () => {
    const disks = readdirSync('/sys/block').filter((n) => /^(sd[a-z]+|vd[a-z]+|xvd[a-z]+|nvme\d+n\d+|hd[a-z]+)$/.test(n));
    expect(disks.length, 'this machine has a block disk').toBeGreaterThan(0);
    for (const n of disks) {
      const h = parseSmartctlJson(run(['-j', '-a', '-n', 'standby', `/dev/${n}`]), `/dev/${n}`);
      expect(h.device).toBe(`/dev/${n}`);
      // What the collector accepts (the contract's schema, as ingest validates it).
      expect(() => DiskHealth.parse(h)).not.toThrow();
      if (h.state === 'unavailable') expect(h.reason, 'why it is unavailable, from smartctl').toMatch(/\S/);
    }
  });

  it("the agent's Linux check runs it: disks, or unavailable naming smartctl (never 'not installed')", async () => {
    const reader = new LinuxDiskHealthReader();
    try {
      const report = await reader.read(0, Date.now(), 20_000);
      expect(report.details).toMatchObject({ source: 'smartctl' });
      expect(report.disks.length).toBeGreaterThan(0);
    } catch (err) {
      expect(err).toBeInstanceOf(DiskHealthUnavailable);
      expect((err as Error).message).toMatch(/smartctl/);
      expect((err as Error).message).not.toMatch(/not installed/);
    }
  });
});
