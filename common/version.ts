import { readFileSync } from 'node:fs';

// Set by the agent bundle (scripts/bundle-agent.mjs), which ships without package.json.
declare const __CANH_VERSION__: string | undefined;

/** The package version: baked into a bundle, else read once from package.json. */
function readVersion(): string {
  if (typeof __CANH_VERSION__ === 'string') return __CANH_VERSION__;
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'canh' && pkg.version) return pkg.version;
    } catch {
      /* try the next location */
    }
  }
  return '0.0.0';
}

export const VERSION = readVersion();
