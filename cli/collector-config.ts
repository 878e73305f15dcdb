import { resolveRulesFile } from '../collector/alerting/alerting-config.js';
import { CollectorConfigSchema, type CollectorConfig } from '../collector/config.js';
import { loadConfig } from '../common/config-loader.js';
import { loadOrReport } from './config-errors.js';

export interface CollectorConfigArgs {
  /** `--config FILE`; else `CANH_COLLECTOR_CONFIG`; else defaults + environment. */
  file?: string | undefined;
  /** `--data-dir DIR`, for the commands that work on the collector's store. */
  dataDir?: string | undefined;
  /** Settings a command imposes (e.g. `canh up`: the embedded broker). */
  overrides?: Record<string, unknown>;
}

/**
 * The collector's configuration as every `canh` command that runs or opens the collector
 * sees it: file, `CANH_COLLECTOR__…` environment, the alert rules file merged in. On an
 * invalid configuration prints every problem and returns undefined (exit 2).
 */
export function loadCollectorConfig(program: string, args: CollectorConfigArgs = {}): CollectorConfig | undefined {
  return loadOrReport(program, () => {
    const c = loadConfig(CollectorConfigSchema, {
      file: args.file ?? process.env.CANH_COLLECTOR_CONFIG,
      envPrefix: 'CANH_COLLECTOR',
      overrides: { ...(args.dataDir ? { dataDir: args.dataDir } : {}), ...args.overrides },
    });
    return { ...c, alerting: resolveRulesFile(c.alerting) };
  });
}
