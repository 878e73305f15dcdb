import type { AgentConfig } from '../../config.js';
import { createCpuSource } from './cpu.js';
import { createDiskIoSource } from './diskio.js';
import { createDisksSource } from './disks.js';
import { createHttpProbeSource } from './http-probe.js';
import { createMemorySource } from './memory.js';
import { createNetworkSource } from './network.js';
import { createPingSource } from './ping.js';
import { createPowerSource } from './power.js';
import { createPressureSource } from './pressure.js';
import type { MetricSource, SourceContext } from './source.js';
import { createUptimeSource } from './uptime.js';

interface SourceRegistration {
  create: (ctx: SourceContext) => MetricSource;
  /** Omitted: always on. */
  enabled?: (config: AgentConfig) => boolean;
}

/** Every metric source, one line each; a new source is one file plus one line here. */
export const SOURCE_REGISTRY: readonly SourceRegistration[] = [
  { create: createCpuSource },
  { create: createMemorySource },
  { create: createDisksSource },
  { create: createNetworkSource },
  { create: createUptimeSource },
  { create: (ctx) => createHttpProbeSource(ctx), enabled: (config) => config.http.enabled && config.http.probes.length > 0 },
  { create: createPingSource, enabled: (config) => config.ping.enabled },
  { create: createPowerSource, enabled: (config) => config.power.enabled },
  { create: createDiskIoSource, enabled: (config) => config.diskHealth.activity },
  { create: createPressureSource, enabled: (config) => config.diskHealth.activity },
];

/** The sources enabled by the configuration, not yet initialised (the sampler calls `init()`). */
export function createSources(ctx: SourceContext): MetricSource[] {
  return SOURCE_REGISTRY.filter((s) => s.enabled?.(ctx.config) ?? true).map((s) => s.create(ctx));
}
