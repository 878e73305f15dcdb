import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ZodType } from 'zod';
import { silentLogger } from '../../../../../../common/log.js';
import { AlertingConfigSchema } from '../../../../../../collector/alerting/alerting-config.js';
import type { CommonParams } from '../../../../../../collector/alerting/rules/alert-rule.js';
import { BUILT_IN_RULES } from '../../../../../../collector/alerting/rules/registry.js';
import type { ApiContext } from '../../../../../../collector/http/api/api-module.js';
import { rulesRoutes, type RuleInfo } from '../../../../../../collector/http/api/routes/rules.js';
import { FakeClock } from '../../../../../helpers/fake-clock.js';

/** `GET /api/rules` on a real express app, with a minimal ApiContext (auth is the HTTP server's). */
describe('rules API module', () => {
  let base = '';
  let close: () => void = () => {};
  const roles: string[] = [];

  beforeAll(async () => {
    const ctx: ApiContext = {
      clock: new FakeClock(),
      log: silentLogger(),
      requireRole: (role) => (_req, res, next) => {
        roles.push(role);
        // An admin of every site: scopes are tested against the real API (test/integration/api-scopes.test.ts).
        res.locals.principal = { tokenId: 1, name: 'test', role: 'admin', sites: null, via: 'token' };
        next();
      },
      audit: () => {},
      parse<T>(schema: ZodType<T>, value: unknown): T | undefined {
        return schema.parse(value);
      },
    };
    // One rule tuned the way an operator would: critical instead of warning, and one switched off.
    const config = AlertingConfigSchema.parse({ rules: { hostOffline: { severity: 'critical' }, portalUnreachable: { enabled: false } } });
    const app = express();
    const router = express.Router();
    rulesRoutes({ params: config.rules as Record<string, CommonParams> }).mount(router, ctx);
    app.use('/api', router);
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((r) => server.once('listening', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
    close = () => server.close();
  });
  afterAll(() => close());

  it('lists every registered rule, in registry order, with its texts and configured severity (role read)', async () => {
    const res = await fetch(`${base}/rules`);
    expect(res.status).toBe(200);
    const { rules } = (await res.json()) as { rules: RuleInfo[] };
    expect(rules.map((r) => r.id)).toEqual(BUILT_IN_RULES.map((r) => r.name));
    for (const r of BUILT_IN_RULES) {
      const listed = rules.find((x) => x.id === r.name)!;
      expect(listed.description).toEqual({ vi: r.description.vi, en: r.description.en });
      expect(listed.description.vi.length, r.name).toBeGreaterThan(0);
      expect(listed.description.en.length, r.name).toBeGreaterThan(0);
    }
    expect(rules.find((r) => r.id === 'host_offline')).toMatchObject({ severity: 'critical', enabled: true });
    expect(rules.find((r) => r.id === 'portal_unreachable')).toMatchObject({ enabled: false });
    expect(rules.find((r) => r.id === 'site_offline')?.severity).toBe((BUILT_IN_RULES.find((r) => r.name === 'site_offline')!.params.parse({}) as CommonParams).severity);
    expect(roles).toEqual(['read']);
  });
});
