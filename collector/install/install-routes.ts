import express, { type Router } from 'express';
import type { Logger } from 'pino';
import { LINUX_BOOTSTRAP, WINDOWS_BOOTSTRAP } from './install-scripts.js';
import { PACKAGES, type PackageCatalog, type PackageKind } from './package-catalog.js';

/**
 * `/install/…` (issue 15 item 2), without authentication: the packages hold no secret
 * (the enrolment token is the secret, and it is in the pasted command only).
 *
 *   GET /install/               JSON: each package, built or not, size, SHA-256
 *   GET /install/SHA256SUMS     `sha256sum -c` format, built packages only
 *   GET /install/files/<file>   a package (only the names of {@link PACKAGES})
 *   GET /install/linux.sh       the Linux bootstrap script
 *   GET /install/windows.ps1    the Windows bootstrap script
 */
export function installRoutes(catalog: PackageCatalog, log: Logger): Router {
  const router = express.Router();
  const byFile = new Map<string, PackageKind>(Object.entries(PACKAGES).map(([kind, p]) => [p.file, kind as PackageKind]));
  router.get('/', (_req, res, next) => {
    catalog.all().then((packages) => {
      res.setHeader('Cache-Control', 'no-store');
      res.json({ packages, scripts: ['linux.sh', 'windows.ps1'] });
    }, next);
  });
  router.get('/SHA256SUMS', (_req, res, next) => {
    catalog.all().then((packages) => {
      res.setHeader('Cache-Control', 'no-store');
      res.type('text/plain; charset=utf-8').send(
        packages
          .filter((p) => p.built)
          .map((p) => `${p.sha256}  ${p.file}\n`)
          .join(''),
      );
    }, next);
  });
  router.get('/files/:file', (req, res, next) => {
    const kind = byFile.get(req.params.file);
    if (!kind) return res.status(404).json({ error: 'not_found', message: 'no such package' });
    catalog.info(kind).then((info) => {
      if (!info.built) {
        return res.status(404).json({
          error: 'not_found',
          message: `Gói ${info.file} chưa được đóng trên máy chủ này (${info.build}). / Package not built on this collector.`,
        });
      }
      res.setHeader('X-Checksum-Sha256', info.sha256!);
      res.sendFile(catalog.path(kind), { dotfiles: 'deny', headers: { 'Content-Type': kind === 'linux' ? 'application/gzip' : 'application/zip' } }, (err) => {
        if (err && !res.headersSent) next(err);
        else if (err) log.debug({ err: err.message }, 'package download ended early');
      });
    }, next);
  });
  router.get('/linux.sh', (_req, res) => {
    res.type('text/x-shellscript; charset=utf-8').send(LINUX_BOOTSTRAP);
  });
  router.get('/windows.ps1', (_req, res) => {
    // PowerShell 5 reads a file without BOM as the ANSI code page: the BOM keeps the Vietnamese readable.
    res.type('text/plain; charset=utf-8').send(`\ufeff${WINDOWS_BOOTSTRAP.replace(/\r?\n/g, '\r\n')}`);
  });
  return router;
}
