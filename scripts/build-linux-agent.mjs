#!/usr/bin/env node
// Builds the Linux agent package the collector serves at /install/files/ (issue 15):
// dist/packages/canh-agent-linux.tar.gz, one folder canh-agent-linux/ with
//
//   canh-agent.mjs (+ chunks, LEGAL)   the agent bundle (npm run build)
//   install-agent.sh                   deploy/linux/install-agent.sh (finds the bundle next to it)
//   canh-agent.service                 deploy/systemd/canh-agent.service
//
// Needs tar (GNU tar: reproducible owner, order and mtime). Node.js itself is not in it:
// Linux PCs install Node.js >= 20 from their distribution or NodeSource (deploy/README.md).
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BUNDLE = join(ROOT, 'dist/agent-bundle');
const OUT_DIR = join(ROOT, 'dist/packages');
const NAME = 'canh-agent-linux';
const STAGE = join(OUT_DIR, `.stage-${process.pid}`);

if (!existsSync(join(BUNDLE, 'canh-agent.mjs'))) {
  process.stderr.write(`build-linux-agent: ${BUNDLE}/canh-agent.mjs missing: run the agent bundle first\n`);
  process.exit(1);
}
rmSync(STAGE, { recursive: true, force: true });
const dir = join(STAGE, NAME);
mkdirSync(dir, { recursive: true });
for (const f of readdirSync(BUNDLE)) if (f.endsWith('.mjs') || f.endsWith('.LEGAL.txt')) copyFileSync(join(BUNDLE, f), join(dir, f));
copyFileSync(join(ROOT, 'deploy/linux/install-agent.sh'), join(dir, 'install-agent.sh'));
chmodSync(join(dir, 'install-agent.sh'), 0o755);
copyFileSync(join(ROOT, 'deploy/systemd/canh-agent.service'), join(dir, 'canh-agent.service'));
const tmp = join(OUT_DIR, `${NAME}.tar.gz.tmp`);
execFileSync('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '--use-compress-program=gzip -n', '-cf', tmp, '-C', STAGE, NAME], {
  stdio: 'inherit',
});
renameSync(tmp, join(OUT_DIR, `${NAME}.tar.gz`));
rmSync(STAGE, { recursive: true, force: true });
process.stdout.write(`linux agent package: ${join(OUT_DIR, `${NAME}.tar.gz`)}\n`);
