import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { resolveRulesFile } from '../collector/alerting/alerting-config.js';
import { databaseFile } from '../collector/collector.js';
import { openDatabase, type SqliteDatabase } from '../collector/store/sqlite-store.js';
import { CollectorConfigSchema, type CollectorConfig } from '../collector/config.js';
import { loadConfig } from '../common/config-loader.js';
import { loadOrReport } from './config-errors.js';
import { cliLang } from './help.js';

/** The options every command on the collector's store takes (parseArgs shape). */
export const STORE_OPTIONS = {
  config: { type: 'string', short: 'c' },
  'data-dir': { type: 'string' },
} as const;

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

/**
 * Whether the data folder was pointed at (`--data-dir`, `CANH_COLLECTOR__DATA_DIR`, or
 * `dataDir` in the configuration file) rather than the default `./data` of whatever
 * folder the command happens to run in.
 */
export function dataDirConfigured(args: CollectorConfigArgs, env: NodeJS.ProcessEnv = process.env): boolean {
  if (args.dataDir !== undefined || env.CANH_COLLECTOR__DATA_DIR !== undefined || args.overrides?.dataDir !== undefined) return true;
  const file = args.file ?? env.CANH_COLLECTOR_CONFIG;
  if (!file) return false;
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return typeof parsed === 'object' && parsed !== null && 'dataDir' in parsed;
  } catch {
    return false;
  }
}

/**
 * Open the collector's store for a CLI command. An existing store is opened. A missing
 * one is created only by a command that makes the first entries (`create`: credentials
 * add, tokens create, …) and only in a data folder that was pointed at: run from another
 * folder, `canh credentials list` must not silently make an empty `./data/canh.db` there
 * and answer from it. Otherwise prints where it looked and how to point it, and returns
 * undefined (exit 2).
 */
export function openCollectorStore(
  program: string,
  config: CollectorConfig,
  args: CollectorConfigArgs,
  opts: { create: boolean },
  err: NodeJS.WritableStream = process.stderr,
): SqliteDatabase | undefined {
  const file = databaseFile(config);
  if (existsSync(file) || (opts.create && dataDirConfigured(args))) return openDatabase(file);
  const dir = resolve(config.dataDir);
  const lang = cliLang([], process.env);
  const configured = dataDirConfigured(args);
  err.write(
    lang === 'vi'
      ? `canh ${program}: không thấy kho dữ liệu của máy chủ thu thập: chưa có ${resolve(file)}\n` +
          `  Đã tìm trong thư mục ${dir}${configured ? ' (theo cấu hình)' : ` (mặc định ./data của thư mục hiện tại ${process.cwd()})`}.\n` +
          `  Không tạo kho trống. Hãy chạy lệnh trong thư mục của máy chủ thu thập, hoặc chỉ rõ bằng\n` +
          `  --config FILE (tệp cấu hình có dataDir) hoặc --data-dir DIR (ví dụ --data-dir /var/lib/canh-collector).\n`
      : `canh ${program}: no collector store: ${resolve(file)} does not exist\n` +
          `  Looked in ${dir}${configured ? ' (as configured)' : ` (the default ./data of the current folder ${process.cwd()})`}.\n` +
          `  No empty store is created. Run the command in the collector's folder, or point it there with\n` +
          `  --config FILE (a configuration with dataDir) or --data-dir DIR (e.g. --data-dir /var/lib/canh-collector).\n`,
  );
  return undefined;
}
