import type { AlertRule, CommonParams } from './alert-rule.js';
import { cpuSaturation } from './cpu-saturation.js';
import { diskFailing } from './disk-failing.js';
import { diskNearlyFull } from './disk-nearly-full.js';
import { diskSaturated } from './disk-saturated.js';
import { freezesAndCrashes } from './freezes-and-crashes.js';
import { frequentPowerCuts } from './frequent-power-cuts.js';
import { hostOffline } from './host-offline.js';
import { memoryPressure } from './memory-pressure.js';
import { memorySaturation } from './memory-saturation.js';
import { networkCut } from './network-cut.js';
import { peakHourCongestion } from './peak-hour-congestion.js';
import { portalUnreachable } from './portal-unreachable.js';
import { siteOffline } from './site-offline.js';

/** The built-in rules (issue 4). A new rule is one file plus one line here. */
export const BUILT_IN_RULES: ReadonlyArray<AlertRule<CommonParams>> = [
  peakHourCongestion,
  frequentPowerCuts,
  siteOffline,
  networkCut,
  hostOffline,
  diskNearlyFull,
  cpuSaturation,
  memorySaturation,
  freezesAndCrashes,
  portalUnreachable,
  diskFailing,
  diskSaturated,
  memoryPressure,
] as unknown as ReadonlyArray<AlertRule<CommonParams>>;
