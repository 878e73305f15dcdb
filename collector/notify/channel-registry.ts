/**
 * Channel types (house style §2: one file per channel, one line here per type).
 */
import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../common/log.js';
import type { Counter } from '../../common/metrics-registry.js';
import { EmailNotifier } from './channels/email.js';
import { WebhookNotifier } from './channels/webhook.js';
import { ZaloBotNotifier } from './channels/zalo-bot.js';
import { ZaloOaNotifier } from './channels/zalo-oa.js';
import { ZaloOaTokens, type OaTokenStore } from './channels/zalo-oa-tokens.js';
import type { ChannelConfig, ChannelType } from './config.js';
import type { Notifier } from './notifier.js';

export interface ChannelDeps {
  clock: Clock;
  /** The channel's child logger. */
  log: Logger;
  /** Where refreshed Zalo OA token pairs are kept. */
  oaTokenStore: OaTokenStore;
  /** Token managers per OA app, shared by channels of one app (one refresh at a time per app). */
  oaTokens: Map<string, ZaloOaTokens>;
  oaRefreshes?: Counter | undefined;
}

type Factory<T extends ChannelType> = (cfg: Extract<ChannelConfig, { type: T }>, deps: ChannelDeps) => Notifier;

const FACTORIES: { [T in ChannelType]: Factory<T> } = {
  zalo_bot: (cfg, d) => new ZaloBotNotifier(cfg, d),
  zalo_oa: (cfg, d) => {
    let tokens = d.oaTokens.get(cfg.appId);
    if (!tokens) {
      tokens = new ZaloOaTokens(
        { appId: cfg.appId, secret: cfg.secret, accessToken: cfg.accessToken, refreshToken: cfg.refreshToken, oauthUrl: cfg.oauthUrl, timeoutMs: cfg.timeoutMs },
        { store: d.oaTokenStore, clock: d.clock, log: d.log, refreshes: d.oaRefreshes },
      );
      d.oaTokens.set(cfg.appId, tokens);
    }
    return new ZaloOaNotifier(cfg, { clock: d.clock, log: d.log, tokens });
  },
  email: (cfg, d) => new EmailNotifier(cfg, d),
  webhook: (cfg, d) => new WebhookNotifier(cfg, d),
};

export function createNotifier(cfg: ChannelConfig, deps: ChannelDeps): Notifier {
  return (FACTORIES[cfg.type] as Factory<ChannelType>)(cfg as never, deps);
}
