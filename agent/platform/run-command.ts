import { execFile } from 'node:child_process';

/**
 * Runs a command once, for readings taken rarely (at start, after a freeze): never per tick.
 * Resolves its stdout, or null when it is missing, fails or times out (edges fail softly).
 */
export function runCommand(cmd: string, args: readonly string[], timeoutMs: number, signal?: AbortSignal): Promise<string | null> {
  return new Promise((resolve) => {
    try {
      execFile(cmd, args as string[], { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024, windowsHide: true, encoding: 'utf8', ...(signal ? { signal } : {}) }, (err, stdout) =>
        resolve(err ? null : stdout),
      );
    } catch {
      resolve(null);
    }
  });
}
