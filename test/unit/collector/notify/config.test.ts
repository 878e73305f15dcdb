/**
 * The `notify` config section: good defaults, every problem reported at once as
 * `path: message`, secrets never in the error text.
 */
import { describe, expect, it } from 'vitest';
import { CollectorConfigSchema } from '../../../../collector/config.js';
import { ConfigError, loadConfig } from '../../../../common/config-loader.js';

function problems(notify: unknown): string[] {
  try {
    loadConfig(CollectorConfigSchema, { envPrefix: 'CANH_TEST_NOTIFY', env: {}, overrides: { notify } });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('notify config', () => {
  it('defaults: no channels, 20/min with bursts of 5, digest off, Hồ Chí Minh time', () => {
    const c = CollectorConfigSchema.parse({});
    expect(c.notify.channels).toEqual([]);
    expect(c.notify.rateLimit).toEqual({ perMinute: 20, burst: 5 });
    expect(c.notify.digest).toMatchObject({ enabled: false, cron: '30 17 * * *' });
    expect(c.notify.timeZone).toBe('Asia/Ho_Chi_Minh');
    const z = CollectorConfigSchema.parse({ notify: { channels: [{ type: 'zalo_bot', name: 'zalo', token: '1234:abcdefgh', chatId: 'c' }] } });
    expect(z.notify.channels[0]).toMatchObject({ baseUrl: 'https://bot-api.zaloplatforms.com', language: 'vi', timeoutMs: 10_000, maxParts: 5 });
  });

  it('reports every problem at once, by path, without echoing secrets', () => {
    const p = problems({
      timeZone: 'Asia/Sai_Gon_Typo',
      channels: [
        { type: 'zalo_bot', name: 'zalo', token: 'short', chatId: 'c' },
        { type: 'email', name: 'zalo', host: 'smtp', from: 'a@b.vn', to: [] },
        { type: 'sms', name: 'x' },
        { type: 'webhook', name: 'hook', url: 'ftp://x' },
      ],
      digest: { cron: 'every day', channels: ['nope'] },
    });
    expect(p).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^notify\.channels\.0\.token: /),
        expect.stringMatching(/^notify\.channels\.1\.to: /),
        expect.stringMatching(/^notify\.channels\.2(\.type)?: /),
        expect.stringMatching(/^notify\.channels\.3\.url: must be an http:\/\/ or https:\/\/ URL/),
      ]),
    );
    expect(p.join('\n')).not.toContain('short');
    // Cross-field checks run once the fields themselves are valid.
    const q = problems({
      timeZone: 'Asia/Sai_Gon_Typo',
      channels: [
        { type: 'zalo_bot', name: 'zalo', token: '1234:abcdefgh', chatId: 'c' },
        { type: 'webhook', name: 'zalo', url: 'http://x' },
      ],
      digest: { cron: 'every day', channels: ['nope'] },
    });
    expect(q).toEqual([
      'notify.channels.1.name: duplicate channel name "zalo"',
      'notify.digest.channels.0: no channel named "nope"',
      'notify.digest.cron: not a cron expression: "every day"',
      'notify.timeZone: unknown time zone "Asia/Sai_Gon_Typo"',
    ]);
  });
});
