import { ConfigError } from '../common/config-loader.js';

/** Run a config load; on ConfigError print every problem and return undefined (exit 2). */
export function loadOrReport<T>(program: string, load: () => T): T | undefined {
  try {
    return load();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`canh ${program}: invalid configuration (${err.problems.length} problem${err.problems.length > 1 ? 's' : ''}):\n`);
      for (const p of err.problems) process.stderr.write(`  ${p}\n`);
      return undefined;
    }
    throw err;
  }
}
