import type { PressureMetrics } from '../../../contract/schemas.js';
import { vmstatRates, type VmstatCounters } from '../../platform/disk-pressure-parsers.js';
import { isMissingError } from '../../platform/system-info.js';
import { readOrUnavailable, SourceUnavailableError, type MetricSource, type SourceContext } from './source.js';

/**
 * Memory pressure (issue 17): Linux PSI avg10 where the kernel has it (else null) and
 * swap-in/out and major-fault rates from /proc/vmstat between two samples; Windows the
 * paging counters. Two small /proc reads per sample.
 */
export function createPressureSource(ctx: SourceContext): MetricSource<'pressure'> {
  const { sys, clock } = ctx;
  let previous: { at: number; counters: VmstatCounters } | undefined;
  /** Cleared after the first ENOENT: a kernel without PSI does not grow it while running. */
  let psiPresent = true;

  async function readVmstat(): Promise<VmstatCounters> {
    if (!sys.vmstat) throw new SourceUnavailableError('memory pressure counters not available on this OS');
    return readOrUnavailable('/proc/vmstat unreadable', () => sys.vmstat!());
  }

  async function readPsi(): Promise<{ some: number | null; full: number | null }> {
    if (!sys.psiMemory || !psiPresent) return { some: null, full: null };
    try {
      return await sys.psiMemory();
    } catch (err) {
      // No PSI (kernel < 4.20, or booted with psi=0: the file exists but reading it fails with EOPNOTSUPP).
      if (isMissingError(err) || (err as { code?: string }).code === 'EOPNOTSUPP') {
        psiPresent = false;
        return { some: null, full: null };
      }
      throw err;
    }
  }

  return {
    name: 'pressure',
    async init() {
      if (sys.vmstat) previous = { at: clock.monotonic(), counters: await readVmstat() };
    },
    async collect(): Promise<PressureMetrics> {
      if (sys.windowsPerf) {
        return (await readOrUnavailable('memory performance counters unreadable', () => sys.windowsPerf!())).pressure;
      }
      const [counters, psi] = await Promise.all([readVmstat(), readPsi()]);
      const at = clock.monotonic();
      const rates = previous ? vmstatRates(previous.counters, counters, at - previous.at) : { swapInPs: null, swapOutPs: null, hardFaultsPs: null };
      previous = { at, counters };
      return { memSomePct: psi.some, memFullPct: psi.full, ...rates };
    },
  };
}
