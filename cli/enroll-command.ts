import { networkInterfaces } from 'node:os';
import { parseArgs } from 'node:util';
import type { CollectorConfig } from '../collector/config.js';
import { EnrollmentStore, type EnrollTokenRow, type MachineRow } from '../collector/enrollment/enrollment-store.js';
import { DEFAULT_EXPIRES, EXPIRES_HINT, parseExpires } from '../collector/enrollment/token-options.js';
import { pasteCommands } from '../collector/install/install-scripts.js';
import { PackageCatalog } from '../collector/install/package-catalog.js';
import { isValidId } from '../contract/topics.js';
import { systemClock } from '../common/clock.js';
import { loadCollectorConfig, openCollectorStore, STORE_OPTIONS } from './collector-config.js';
import { cliLang, helpText, usageError } from './help.js';
import { AuditLog } from '../collector/audit/audit-log.js';
import { cliActor } from './cli-actor.js';

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());

/** The collector's address as PCs reach it: --url, `enrollment.publicUrl`, else the first LAN IPv4 and the HTTP port. */
function collectorUrl(config: CollectorConfig, given: string | undefined): string {
  if (given) return given.replace(/\/+$/, '');
  if (config.enrollment.publicUrl) return config.enrollment.publicUrl.replace(/\/+$/, '');
  const lan = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal);
  return `http://${lan?.address ?? '127.0.0.1'}:${config.http.port}`;
}

function tokenLine(t: EnrollTokenRow): string {
  return (
    `${t.id}\tsite=${t.site}\t${JSON.stringify(t.name)}\t${t.hint}…\tuses=${t.uses}/${t.maxUses ?? '∞'}\texpires=${iso(t.expiresAt)}` +
    `${t.requireApproval ? '\tapproval' : ''}\tby=${JSON.stringify(t.createdBy)}${t.revokedAt !== null ? `\trevoked=${iso(t.revokedAt)}` : ''}\n`
  );
}

function machineLine(m: MachineRow): string {
  return (
    `${m.id}\t${m.status}\tsite=${m.site}\thost=${m.host ?? '-'}\thostname=${JSON.stringify(m.hostname)}\tmachineId=${m.machineId.slice(0, 12)}…` +
    `${m.cloneOf !== null ? `\tcloneOf=${m.cloneOf}` : ''}\tfrom=${m.address}\tupdated=${iso(m.updatedAt)}\n`
  );
}

/** `canh enroll …`: site enrolment tokens and enrolled PCs (issue 15, README "Site enrolment"). */
export async function runEnrollCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      ...STORE_OPTIONS,
      site: { type: 'string' },
      expires: { type: 'string' },
      uses: { type: 'string' },
      approval: { type: 'boolean' },
      name: { type: 'string' },
      url: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [sub, arg] = positionals;
  const lang = cliLang(argv);
  if (values.help) {
    process.stdout.write(helpText('enroll', lang));
    return 0;
  }
  const subs = ['create', 'list', 'revoke', 'machines', 'approve', 'reject'];
  if (!sub || !subs.includes(sub)) {
    const what = sub === undefined ? (lang === 'vi' ? 'thiếu lệnh con' : 'missing subcommand') : lang === 'vi' ? `không có lệnh con "${sub}"` : `unknown subcommand: ${sub}`;
    return usageError('enroll', `${what} (${subs.join(', ')})`, lang);
  }
  const source = { file: values.config, dataDir: values['data-dir'] };
  const config = loadCollectorConfig('enroll', source);
  if (!config) return 2;
  const db = openCollectorStore('enroll', config, source, { create: sub === 'create' });
  if (!db) return 2;
  try {
    const store = new EnrollmentStore(db);
    const audit = new AuditLog(db);
    const now = systemClock.now();
    switch (sub) {
      case 'create': {
        if (!values.site || !isValidId(values.site)) {
          process.stderr.write('canh enroll create: --site is required (a site id: lowercase letters, digits, - and _)\n');
          return 2;
        }
        const ms = parseExpires(values.expires ?? DEFAULT_EXPIRES);
        if (ms === undefined) {
          process.stderr.write(`canh enroll create: --expires must be ${EXPIRES_HINT}\n`);
          return 2;
        }
        const uses = values.uses === undefined ? null : Number(values.uses);
        if (uses !== null && (!Number.isInteger(uses) || uses < 1 || uses > 10_000)) {
          process.stderr.write('canh enroll create: --uses must be a whole number from 1 to 10000\n');
          return 2;
        }
        if (values.url !== undefined && !/^https?:\/\/[^\s/]+\/?$/.test(values.url)) {
          process.stderr.write('canh enroll create: --url must be the collector address as PCs reach it, e.g. http://10.0.0.5:8080\n');
          return 2;
        }
        const name = values.name?.trim() || values.site;
        const t = store.createToken({
          site: values.site,
          name: name.slice(0, 64),
          createdBy: cliActor().actor,
          expiresAt: now + ms,
          maxUses: uses,
          requireApproval: values.approval ?? config.enrollment.requireApproval,
          now,
        });
        audit.record(
          { ...cliActor(), action: 'enroll_token_create', target: `enrolment token ${t.id}`, details: { site: t.site, name: t.name, maxUses: t.maxUses, expiresAt: t.expiresAt } },
          now,
        );
        const catalog = new PackageCatalog(config.enrollment.packagesDir);
        const [linux, windows] = await Promise.all([catalog.info('linux'), catalog.info('windows')]);
        const commands = pasteCommands({ collectorUrl: collectorUrl(config, values.url), site: t.site, token: t.token, linux, windows });
        if (values.json) {
          process.stdout.write(`${JSON.stringify({ ...t, commands, packages: { linux, windows } })}\n`);
          return 0;
        }
        const notBuilt = (p: typeof linux) => (p.built ? '' : `  (chưa có gói ${p.file} trên máy chủ / not built: ${p.build})\n`);
        process.stdout.write(
          `token: ${t.token}\nid: ${t.id}\nsite: ${t.site}\nexpires: ${iso(t.expiresAt)}\nuses: ${t.maxUses ?? 'unlimited'}${t.requireApproval ? '\napproval: required' : ''}\n` +
            `(mã chỉ hiện một lần / the token is shown only this once)\n\n` +
            `Windows — dán vào PowerShell mở bằng quyền quản trị (Run as administrator):\n${notBuilt(windows)}  ${commands.windows}\n\n` +
            `Linux — dán vào terminal:\n${notBuilt(linux)}  ${commands.linux}\n`,
        );
        return 0;
      }
      case 'list': {
        const list = store.tokens();
        if (values.json) process.stdout.write(`${JSON.stringify(list)}\n`);
        else for (const t of list) process.stdout.write(tokenLine(t));
        return 0;
      }
      case 'revoke': {
        const id = Number(arg);
        if (!arg || !Number.isInteger(id) || id < 1) {
          process.stderr.write('canh enroll revoke ID   (the id from `canh enroll list`)\n');
          return 2;
        }
        if (!store.revokeToken(id, cliActor().actor, now)) {
          process.stderr.write(`no active enrolment token ${id}\n`);
          return 1;
        }
        audit.record({ ...cliActor(), action: 'enroll_token_revoke', target: `enrolment token ${id}` }, now);
        process.stdout.write(`revoked enrolment token ${id}\n`);
        return 0;
      }
      case 'machines': {
        if (values.site !== undefined && !isValidId(values.site)) {
          process.stderr.write('canh enroll machines: --site must be a site id\n');
          return 2;
        }
        const list = store.machines(values.site);
        if (values.json) process.stdout.write(`${JSON.stringify(list)}\n`);
        else for (const m of list) process.stdout.write(machineLine(m));
        return 0;
      }
      case 'approve':
      case 'reject': {
        const id = Number(arg);
        if (!arg || !Number.isInteger(id) || id < 1) {
          process.stderr.write(`canh enroll ${sub} ID   (the id from \`canh enroll machines\`)\n`);
          return 2;
        }
        const by = cliActor().actor;
        const ok = store.decide(id, sub === 'approve' ? 'approved' : 'rejected', by, now);
        if (!ok) {
          process.stderr.write(`no waiting computer ${id} (pending, clone or rejected): see canh enroll machines\n`);
          return 1;
        }
        audit.record({ ...cliActor(), action: sub === 'approve' ? 'enroll_approve' : 'enroll_reject', target: `computer ${id}` }, now);
        process.stdout.write(`${sub === 'approve' ? 'approved' : 'rejected'} computer ${id}${sub === 'approve' ? ' (it enrolls at its next try, within a minute)' : ''}\n`);
        return 0;
      }
    }
    return 2;
  } catch (err) {
    process.stderr.write(`canh enroll: ${(err as Error).message}\n`);
    return 1;
  } finally {
    db.close();
  }
}
