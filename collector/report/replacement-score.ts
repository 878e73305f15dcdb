import type { PcHealth, ReportMethod, ScoreItem } from './report-model.js';

/**
 * The "đề xuất thay thế / nâng cấp" score of one PC: points per criterion, each with its
 * evidence, so the officer can explain the ranking to the city. Hardware says what the PC
 * can do, the month's figures say what it did to TTHC work. The table is printed in the
 * report's footnotes ({@link SCORE_RULES}).
 */
export const SCORE_RULES = {
  cpuOld: 30, // CPU ≥ 8 years old
  cpuAgeing: 15, // CPU 5–7 years old
  ramUnder4: 25,
  ramUnder8: 15,
  hdd: 15, // system disk is a hard disk
  osUnsupported: 10,
  perFreeze: 3,
  freezesMax: 15,
  perCrash: 5,
  crashesMax: 15,
  perSaturatedHour: 1, // per hour of CPU or memory saturation in working hours
  saturationMax: 15,
  diskFull: 10,
  // Issue 17: disk health and pressure, from the agent's disk_health checks and samples.
  diskFailing: 30, // failure predicted, bad sectors rising, or repeated disk errors
  perBusyHour: 1, // per working hour with a disk ≥ the saturation threshold busy
  busyMax: 15,
  memPressurePctPerPoint: 2, // one point per 2 % of working time short of memory
  memPressureMax: 15,
} as const;

type Evidence = Pick<PcHealth, 'freezes' | 'crashes' | 'cpuSaturatedHours' | 'memSaturatedHours' | 'disksNearlyFull' | 'hardware'> &
  Partial<Pick<PcHealth, 'diskHealth' | 'diskBusyHours' | 'memPressurePct'>>;

export function scorePc(pc: Evidence, method: ReportMethod): Pick<PcHealth, 'score' | 'scoreItems' | 'recommendation' | 'actions'> {
  const R = SCORE_RULES;
  const items: ScoreItem[] = [];
  const hw = pc.hardware;
  if (hw) {
    if (hw.ageClass === 'old') items.push({ key: 'cpu_old', points: R.cpuOld, value: hw.cpuYear ?? '?' });
    else if (hw.ageClass === 'ageing') items.push({ key: 'cpu_ageing', points: R.cpuAgeing, value: hw.cpuYear ?? '?' });
    if (hw.ramGb !== null && hw.ramGb < 3.9) items.push({ key: 'ram_low', points: R.ramUnder4, value: hw.ramGb });
    else if (hw.ramGb !== null && hw.ramGb < 7.9) items.push({ key: 'ram_low', points: R.ramUnder8, value: hw.ramGb });
    if (hw.diskType === 'HDD') items.push({ key: 'hdd', points: R.hdd, value: 'HDD' });
    if (hw.osSupported === false) items.push({ key: 'os_unsupported', points: R.osUnsupported, value: hw.os });
  }
  if (pc.freezes > 0) items.push({ key: 'freezes', points: Math.min(R.freezesMax, pc.freezes * R.perFreeze), value: pc.freezes });
  if (pc.crashes > 0) items.push({ key: 'crashes', points: Math.min(R.crashesMax, pc.crashes * R.perCrash), value: pc.crashes });
  if (pc.cpuSaturatedHours >= 1) {
    items.push({ key: 'cpu_saturated', points: Math.min(R.saturationMax, Math.floor(pc.cpuSaturatedHours) * R.perSaturatedHour), value: pc.cpuSaturatedHours });
  }
  if (pc.memSaturatedHours >= 1) {
    items.push({ key: 'mem_saturated', points: Math.min(R.saturationMax, Math.floor(pc.memSaturatedHours) * R.perSaturatedHour), value: pc.memSaturatedHours });
  }
  if (pc.disksNearlyFull.length > 0) items.push({ key: 'disk_full', points: R.diskFull, value: pc.disksNearlyFull.map((d) => d.mount).join(', ') });
  const failing = pc.diskHealth?.find((d) => d.failing);
  if (failing) items.push({ key: 'disk_failing', points: R.diskFailing, value: failing.model ? `${failing.model} (${failing.device})` : failing.device });
  if (pc.diskBusyHours != null && pc.diskBusyHours >= 1) {
    items.push({ key: 'disk_busy', points: Math.min(R.busyMax, Math.floor(pc.diskBusyHours) * R.perBusyHour), value: pc.diskBusyHours });
  }
  const pressurePoints = pc.memPressurePct == null ? 0 : Math.min(R.memPressureMax, Math.floor(pc.memPressurePct / R.memPressurePctPerPoint));
  if (pressurePoints > 0) items.push({ key: 'mem_pressure', points: pressurePoints, value: pc.memPressurePct! });
  const score = items.reduce((s, i) => s + i.points, 0);
  const actions: string[] = [];
  if (hw?.ramGb !== null && hw?.ramGb !== undefined && hw.ramGb < 7.9) actions.push('ram');
  // A failing disk is replaced whatever its type (by an SSD).
  if (hw?.diskType === 'HDD' || failing) actions.push('ssd');
  if (hw?.osSupported === false) actions.push('os');
  if (pc.disksNearlyFull.length > 0) actions.push('disk_space');
  // Replacing is proposed for an old or ageing CPU with enough evidence; a recent PC
  // with a high score is upgraded (RAM, SSD), not replaced.
  const oldCpu = hw?.ageClass === 'old' || hw?.ageClass === 'ageing';
  // A failing disk is an upgrade (its replacement) whatever the score: the PC's files are at risk.
  const recommendation = score >= method.replaceScore && oldCpu ? 'replace' : score >= method.upgradeScore || failing ? 'upgrade' : 'none';
  return { score, scoreItems: items, recommendation, actions };
}
