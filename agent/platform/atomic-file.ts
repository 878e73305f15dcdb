import { open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Small state files written atomically: write a temporary file, optionally fsync it, rename
 * it over the target, optionally fsync the directory. A reader (or the next start after a
 * power cut) sees either the old or the new content, never a torn mix.
 */
export async function writeFileAtomic(path: string, data: string, opts: { fsync: boolean }): Promise<void> {
  const tmp = `${path}.tmp`;
  // Private to the agent's user (the state directory is too: private-files.ts).
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(data, 'utf8');
    if (opts.fsync) await fh.datasync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  if (opts.fsync) await fsyncDir(dirname(path));
}

/**
 * Makes a rename durable (POSIX). Windows cannot open a directory for fsync (EISDIR/EPERM);
 * NTFS journals the rename itself, so that failure is ignored.
 */
async function fsyncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  let fh;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    /* best effort: some filesystems refuse fsync on a directory */
  } finally {
    await fh?.close();
  }
}

/** The parsed JSON of a file; null when it is missing or not valid JSON (a torn or foreign file). */
export async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return null;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/** Removes a file; missing is fine. */
export async function removeFile(path: string): Promise<void> {
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}
