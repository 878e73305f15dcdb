import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The agent packages the collector serves at `/install/files/<name>` (issue 15 item 2),
 * from one folder (`enrollment.packagesDir`, default `dist/packages` of this install,
 * where `npm run build` puts them). Each is known by its SHA-256, computed by streaming
 * (libuv's thread pool reads, the hash is incremental: the event loop is never held for a
 * whole 80 MB zip) and cached until the file's size or mtime changes.
 */
export const PACKAGES = {
  linux: { file: 'canh-agent-linux.tar.gz', what: 'Linux agent (Node.js bundle + install-agent.sh + systemd unit)', build: 'npm run build' },
  windows: {
    file: 'canh-agent-win-x64.zip',
    what: 'Windows x64 agent (node.exe, bundle, service wrapper, install-agent.ps1)',
    build: 'npm run build:windows (needs the npm registry once for node.exe and WinSW)',
  },
} as const;
export type PackageKind = keyof typeof PACKAGES;

export const DEFAULT_PACKAGES_DIR = fileURLToPath(new URL('../../packages/', import.meta.url));

export interface PackageInfo {
  kind: PackageKind;
  file: string;
  what: string;
  built: boolean;
  size?: number;
  sha256?: string;
  /** When not built: how to build it. */
  build?: string;
}

export class PackageCatalog {
  private readonly cache = new Map<string, { size: number; mtimeMs: number; sha256: string }>();

  constructor(readonly dir: string = DEFAULT_PACKAGES_DIR) {}

  path(kind: PackageKind): string {
    return join(this.dir, PACKAGES[kind].file);
  }

  async info(kind: PackageKind): Promise<PackageInfo> {
    const p = PACKAGES[kind];
    const file = this.path(kind);
    let st;
    try {
      st = await stat(file);
    } catch {
      return { kind, file: p.file, what: p.what, built: false, build: p.build };
    }
    if (!st.isFile()) return { kind, file: p.file, what: p.what, built: false, build: p.build };
    const hit = this.cache.get(file);
    if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs) return { kind, file: p.file, what: p.what, built: true, size: st.size, sha256: hit.sha256 };
    const sha256 = await sha256File(file);
    this.cache.set(file, { size: st.size, mtimeMs: st.mtimeMs, sha256 });
    return { kind, file: p.file, what: p.what, built: true, size: st.size, sha256 };
  }

  async all(): Promise<PackageInfo[]> {
    return Promise.all((Object.keys(PACKAGES) as PackageKind[]).map((k) => this.info(k)));
  }
}

export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file, { highWaterMark: 256 * 1024 })
      .on('data', (d) => h.update(d))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}
