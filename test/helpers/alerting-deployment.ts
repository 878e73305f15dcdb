/**
 * The alerting end-to-end set-up (issue 13): a collector (embedded broker or real Mosquitto,
 * test/helpers/deployment.ts) whose notifications go to three real channels on loopback:
 * - Zalo Bot in Vietnamese (chat `officer`) and Zalo Bot in English (chat `it-en`), both to
 *   the Zalo stand-in;
 * - e-mail in Vietnamese through a real SMTP server (test/helpers/mail-server.ts).
 * The group interval is 5 minutes, so a resolved message that follows within seconds was
 * sent by `resolvedIntervalSeconds` (default 10 s), not the group interval.
 */
import { createDeployment, type BrokerKind, type Deployment } from './deployment.js';
import { startMailServer, type MailServer } from './mail-server.js';
import { ZaloStandin, type BotMessage } from './zalo-standin.js';

const TOKEN = '13131313:alerting-e2e';

export interface AlertingDeployment {
  dep: Deployment;
  zalo: ZaloStandin;
  mail: MailServer;
  /** Zalo messages of the Vietnamese channel, in order. */
  vi(): BotMessage[];
  /** Zalo messages of the English channel, in order. */
  en(): BotMessage[];
  stop(): Promise<void>;
}

export async function startAlertingDeployment(
  prefix: string,
  opts: { broker: BrokerKind; sites: Record<string, { name: string }>; env?: Record<string, string> },
): Promise<AlertingDeployment> {
  const zalo = new ZaloStandin({ botTokens: [TOKEN] });
  await zalo.start();
  const mail = await startMailServer();
  const dep = await createDeployment(prefix, { broker: opts.broker });
  const channels = [
    { type: 'zalo_bot', name: 'zalo', token: TOKEN, chatId: 'officer', baseUrl: zalo.url },
    { type: 'zalo_bot', name: 'zalo-en', language: 'en', token: TOKEN, chatId: 'it-en', baseUrl: zalo.url },
    mail.channel('email'),
  ];
  await dep.startCollector({
    CANH_COLLECTOR__SITES: JSON.stringify(opts.sites),
    CANH_COLLECTOR__ALERTING__GROUP_INTERVAL_SECONDS: '300',
    CANH_COLLECTOR__NOTIFY__CHANNELS: JSON.stringify(channels),
    // A failed delivery is retried soon (a busy test machine), not after the default 5 s.
    CANH_COLLECTOR__NOTIFY__RETRY__MIN_DELAY_MS: '500',
    ...opts.env,
  });
  return {
    dep,
    zalo,
    mail,
    vi: () => zalo.botMessages.filter((m) => m.chatId === 'officer'),
    en: () => zalo.botMessages.filter((m) => m.chatId === 'it-en'),
    async stop() {
      await dep.stopAll();
      await zalo.stop();
      await mail.close();
    },
  };
}

/** Words of `text` written with Vietnamese diacritics (any combining mark, or đ/Đ). */
export function wordsWithDiacritics(text: string): string[] {
  return text.split(/\s+/).filter((w) => /[\u0300-\u036f]|[đĐ]/.test(w.normalize('NFD')));
}
