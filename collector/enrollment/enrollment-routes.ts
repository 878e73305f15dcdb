import type { Request, RequestHandler } from 'express';
import { z } from 'zod';
import { IDENTITY_LIMITS, type EnrollRequest } from '../../contract/enrollment.js';
import { ID_PATTERN } from '../../contract/topics.js';
import { sendError } from '../http/api/api-errors.js';
import { clientAddress } from '../http/api/api-core.js';
import type { ApiModule } from '../http/api/api-module.js';
import { principalOf } from '../http/api/auth/authenticator.js';
import { accessOf, forbidSite } from '../http/api/auth/site-access.js';
import type { EnrollmentService } from './enrollment-service.js';
import type { EnrollmentStore } from './enrollment-store.js';
import { DEFAULT_EXPIRES, EXPIRES_HINT, parseExpires } from './token-options.js';

const Id = z.string().regex(ID_PATTERN, 'must be a lowercase slug [a-z0-9_-], 1-63 chars');
const Text = (max: number) => z.string().trim().max(max);
/** Printable text only: these values end up on the board and in logs. */
const Printable = (max: number) => Text(max).refine((s) => !/\p{Cc}/u.test(s), 'must not contain control characters');

const IdentitySchema = z
  .object({
    machineId: Printable(IDENTITY_LIMITS.idChars).pipe(z.string().min(8, 'too short to identify a machine')),
    source: Printable(40),
    productUuid: Printable(IDENTITY_LIMITS.idChars).optional(),
    biosSerial: Printable(IDENTITY_LIMITS.idChars).optional(),
    boardSerial: Printable(IDENTITY_LIMITS.idChars).optional(),
    diskSerials: z.array(Printable(IDENTITY_LIMITS.idChars)).max(IDENTITY_LIMITS.serials).default([]),
    macs: z.array(Printable(32)).max(IDENTITY_LIMITS.macs).default([]),
  })
  .strict();

const EnrollBody = z
  .object({
    token: z.string().min(1).max(100),
    site: Id,
    hostname: Printable(256).pipe(z.string().min(1)),
    identity: IdentitySchema,
    agentVersion: Printable(40).optional(),
    platform: Printable(40).optional(),
  })
  .strict();

const CreateBody = z
  .object({
    site: Id,
    /** Free text: who or what the token is for (e.g. "phòng một cửa"). */
    name: Printable(64).optional(),
    expires: z
      .string()
      .default(DEFAULT_EXPIRES)
      .refine((s) => parseExpires(s) !== undefined, `must be ${EXPIRES_HINT}`),
    uses: z.number().int().min(1).max(10_000).optional(),
    requireApproval: z.boolean().optional(),
  })
  .strict();
const IdParam = z.object({ id: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER) }).strict();
const NoQuery = z.object({}).strict();
const MachinesQuery = z.object({ site: Id.optional() }).strict();
const LogQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(200) }).strict();

export interface InstallCommands {
  linux: string;
  windows: string;
}

export interface EnrollmentRoutesDeps {
  service: EnrollmentService;
  store: EnrollmentStore;
  /** Requests per minute per address on `POST /api/enroll` (a token is not guessable; the limit keeps the table and CPU quiet). */
  limit: RequestHandler;
  /** The MQTT address given to an enrolled agent that asked over this request. */
  mqttUrl: (req: Request) => string;
  /** Approval mode for tokens created without `requireApproval`. */
  requireApprovalDefault: boolean;
  /** The commands to paste on a PC for a new token (install-scripts.ts). */
  commands: (req: Request, token: string, site: string) => Promise<InstallCommands>;
}

const who = (p: ReturnType<typeof principalOf>) => (p ? `token ${p.tokenId} (${p.name})` : 'unknown');

/**
 * `POST /api/enroll` (the agent, authenticated by its enrolment token only) and the admin
 * routes of enrolment: `GET/POST/DELETE /api/enroll/tokens[/:id]`, `GET /api/enroll/machines`,
 * `POST /api/enroll/machines/:id/approve|reject`, `GET /api/enroll/log`.
 */
export function enrollmentRoutes(deps: EnrollmentRoutesDeps): ApiModule {
  const { service, store } = deps;
  return {
    name: 'enrollment',
    mount(router, ctx) {
      router.post('/enroll', deps.limit, (req, res, next) => {
        const parsed = EnrollBody.safeParse(req.body ?? {});
        if (!parsed.success) {
          const reasons = parsed.error.issues.slice(0, 20).map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`);
          res.status(400).json({ error: 'bad_request', message: 'Yêu cầu đăng ký không hợp lệ.', messageEn: 'invalid enrolment request', reasons });
          return;
        }
        const body = parsed.data as EnrollRequest;
        service.enroll(body, clientAddress(req), deps.mqttUrl(req)).then((o) => {
          res.status(o.http).json(o.body);
        }, next);
      });

      router.get('/enroll/tokens', ctx.requireRole('admin'), (req, res) => {
        if (!ctx.parse(NoQuery, req.query, res)) return;
        const access = accessOf(res);
        res.json({ tokens: store.tokens().filter((t) => access.allows(t.site)) });
      });
      router.post('/enroll/tokens', ctx.requireRole('admin'), (req, res, next) => {
        const body = ctx.parse(CreateBody, req.body ?? {}, res);
        if (!body) return;
        // Issue 14 item 7: a commune's admin adds PCs to its own sites only.
        if (!accessOf(res).allows(body.site)) return forbidSite(res, body.site);
        const now = ctx.clock.now();
        const created = store.createToken({
          site: body.site,
          name: body.name || body.site,
          createdBy: who(principalOf(res)),
          expiresAt: now + parseExpires(body.expires)!,
          maxUses: body.uses ?? null,
          requireApproval: body.requireApproval ?? deps.requireApprovalDefault,
          now,
        });
        ctx.log.info({ enrollTokenId: created.id, site: created.site, by: principalOf(res)?.tokenId }, 'enrolment token created');
        ctx.audit(req, res, {
          action: 'enroll_token_create',
          target: `enrolment token ${created.id}`,
          details: { site: created.site, name: created.name, maxUses: created.maxUses, expiresAt: created.expiresAt },
        });
        deps.commands(req, created.token, created.site).then((commands) => res.status(201).json({ ...created, commands }), next);
      });
      router.delete('/enroll/tokens/:id', ctx.requireRole('admin'), (req, res) => {
        const p = ctx.parse(IdParam, req.params, res);
        if (!p) return;
        const token = store.tokens().find((t) => t.id === p.id);
        if (!token || !accessOf(res).allows(token.site) || !store.revokeToken(p.id, who(principalOf(res)), ctx.clock.now()))
          return sendError(res, 'not_found', `no active enrolment token ${p.id}`);
        ctx.audit(req, res, { action: 'enroll_token_revoke', target: `enrolment token ${p.id}`, details: { site: token.site } });
        ctx.log.info({ enrollTokenId: p.id, by: principalOf(res)?.tokenId }, 'enrolment token revoked');
        res.status(204).end();
      });
      router.get('/enroll/machines', ctx.requireRole('admin'), (req, res) => {
        const q = ctx.parse(MachinesQuery, req.query, res);
        if (!q) return;
        const access = accessOf(res);
        if (q.site !== undefined && !access.allows(q.site)) return forbidSite(res, q.site);
        res.json({ machines: store.machines(q.site).filter((m) => access.allows(m.site)) });
      });
      for (const [action, decision] of [
        ['approve', 'approved'],
        ['reject', 'rejected'],
      ] as const) {
        router.post(`/enroll/machines/:id/${action}`, ctx.requireRole('admin'), (req, res) => {
          const p = ctx.parse(IdParam, req.params, res);
          if (!p) return;
          const m = store.machine(p.id);
          if (!m || !accessOf(res).allows(m.site) || !service.decide(p.id, decision, who(principalOf(res))))
            return sendError(res, 'not_found', `no waiting computer ${p.id} (pending, clone or rejected)`);
          ctx.log.info({ machine: p.id, decision, by: principalOf(res)?.tokenId }, 'enrolment decided');
          ctx.audit(req, res, {
            action: decision === 'approved' ? 'enroll_approve' : 'enroll_reject',
            target: `computer ${p.id}`,
            details: { site: m.site, hostname: m.hostname },
          });
          res.json({ machine: store.machine(p.id) });
        });
      }
      router.get('/enroll/log', ctx.requireRole('admin'), (req, res) => {
        const q = ctx.parse(LogQuery, req.query, res);
        if (!q) return;
        const access = accessOf(res);
        res.json({ log: store.recentLog(q.limit).filter((e) => access.allows(e.site)) });
      });
    },
  };
}
