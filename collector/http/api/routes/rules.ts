import type { Localized, Severity } from '../../../alerting/alert-types.js';
import { ruleConfigKey } from '../../../alerting/alerting-config.js';
import type { AlertRule, CommonParams } from '../../../alerting/rules/alert-rule.js';
import { BUILT_IN_RULES } from '../../../alerting/rules/registry.js';
import type { ApiModule } from '../api-module.js';

/** One alert rule as `GET /api/rules` lists it (docs/api.md). */
export interface RuleInfo {
  /** The rule's name, as alerts and silence matchers carry it (`host_offline`). */
  id: string;
  /** One line in both languages (the registry's description). */
  description: Localized;
  /** Severity of its alerts as configured (`alerting.rules.<name>.severity`). */
  severity: Severity;
  enabled: boolean;
}

export interface RulesRoutesDeps {
  /** The rules to list; default the registered ones (collector/alerting/rules/registry.ts). */
  rules?: ReadonlyArray<AlertRule<CommonParams>>;
  /** Their parameters as configured (`alerting.rules`), keyed by `ruleConfigKey(name)`. */
  params: Readonly<Record<string, CommonParams | undefined>>;
}

/**
 * `GET /api/rules` (role `read`, issue 11 item 5): the collector's alert rules, so that the
 * board's silence form offers exactly the rules this collector evaluates instead of a list
 * written into the board.
 */
export function rulesRoutes(deps: RulesRoutesDeps): ApiModule {
  // The registry and the configuration are fixed for the process: one answer, built once.
  const rules: RuleInfo[] = (deps.rules ?? BUILT_IN_RULES).map((r) => {
    const p = deps.params[ruleConfigKey(r.name)] ?? (r.params.parse({}) as CommonParams);
    return { id: r.name, description: { vi: r.description.vi, en: r.description.en }, severity: p.severity, enabled: p.enabled };
  });
  return {
    name: 'rules',
    mount(router, ctx) {
      router.get('/rules', ctx.requireRole('read'), (_req, res) => {
        res.json({ rules });
      });
    },
  };
}
