import { createPrivateKey, createPublicKey, generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { AgentUpdateStore, releaseFile } from '../collector/agentupdate/agent-update-store.js';
import { AuditLog } from '../collector/audit/audit-log.js';
import { sha256File } from '../collector/install/package-catalog.js';
import { systemClock } from '../common/clock.js';
import {
  decodePublicKey,
  keyIdOf,
  manifestBytes,
  manifestProblem,
  RELEASE_PLATFORMS,
  RELEASE_VERSION,
  verifyManifest,
  type ReleaseManifest,
  type ReleasePlatform,
  type SignedManifest,
} from '../contract/agent-update.js';
import { ID_PATTERN } from '../contract/topics.js';
import { cliActor } from './cli-actor.js';
import { loadCollectorConfig, openCollectorStore, STORE_OPTIONS } from './collector-config.js';
import { cliLang, usageError } from './help.js';

const SUBS = ['keygen', 'sign', 'publish', 'target', 'status'] as const;

/** The raw 32-byte public key of an ed25519 key object (the last 32 bytes of its SPKI DER). */
function rawPublicKey(key: ReturnType<typeof createPublicKey>): Buffer {
  return key.export({ format: 'der', type: 'spki' }).subarray(-32);
}

/**
 * `canh release keygen|sign|publish|target|status` (issue 16 item 2): the release key
 * (ed25519; the private key stays offline with whoever builds releases, the public key is
 * pinned on every PC at install time), signing a package, publishing it to this collector's
 * release store, and the rollout of a version to the fleet.
 */
export async function runReleaseCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      ...STORE_OPTIONS,
      out: { type: 'string' },
      key: { type: 'string' },
      version: { type: 'string' },
      platform: { type: 'string' },
      sig: { type: 'string' },
      'public-key': { type: 'string' },
      share: { type: 'string' },
      sites: { type: 'string' },
      force: { type: 'boolean' },
      stop: { type: 'boolean' },
      json: { type: 'boolean' },
    },
  });
  const lang = cliLang(argv);
  const [sub, arg] = positionals;
  if (!(SUBS as readonly (string | undefined)[]).includes(sub)) {
    const list = SUBS.join(', ');
    return usageError(
      'release',
      sub === undefined
        ? lang === 'vi'
          ? `thiếu lệnh con (${list})`
          : `missing subcommand (${list})`
        : lang === 'vi'
          ? `không có lệnh con "${sub}"`
          : `unknown subcommand: ${sub}`,
      lang,
    );
  }
  const err = (vi: string, en: string, code = 2): number => {
    process.stderr.write(`canh release ${sub}: ${lang === 'vi' ? vi : en}\n`);
    return code;
  };
  const say = (vi: string, en: string) => process.stdout.write(`${lang === 'vi' ? vi : en}\n`);

  if (sub === 'keygen') {
    const out = values.out ?? 'canh-release.key';
    if (existsSync(out) || existsSync(`${out}.pub`)) return err(`${out} đã có: không ghi đè khóa`, `${out} exists: a key is never overwritten`);
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    mkdirSync(dirname(out) || '.', { recursive: true });
    writeFileSync(out, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: 'wx' });
    const pub = rawPublicKey(publicKey).toString('base64');
    writeFileSync(`${out}.pub`, `${pub}\n`, { mode: 0o644, flag: 'wx' });
    if (values.json) process.stdout.write(`${JSON.stringify({ privateKeyFile: out, publicKey: pub, keyId: keyIdOf(Buffer.from(pub, 'base64')) })}\n`);
    else
      say(
        `khóa bí mật: ${out} (giữ ngoài máy chủ, sao lưu)\nkhóa công khai (ghim trên mỗi máy: update.publicKey): ${pub}`,
        `private key: ${out} (keep it off the server, back it up)\npublic key (pin it on every PC: update.publicKey): ${pub}`,
      );
    return 0;
  }

  if (sub === 'sign') {
    if (!arg) return err('cần tệp gói: canh release sign --key K --version V GOI.tar.gz', 'needs the package: canh release sign --key K --version V PACKAGE.tar.gz');
    if (!values.key) return err('cần --key (khóa bí mật của canh release keygen)', 'needs --key (the private key from canh release keygen)');
    if (!values.version || !RELEASE_VERSION.test(values.version)) return err('cần --version dạng 1.2.3', 'needs --version like 1.2.3');
    const platform = (values.platform ?? 'any') as ReleasePlatform;
    if (!RELEASE_PLATFORMS.includes(platform)) return err(`--platform: một trong ${RELEASE_PLATFORMS.join(', ')}`, `--platform: one of ${RELEASE_PLATFORMS.join(', ')}`);
    let key;
    try {
      key = createPrivateKey(readFileSync(values.key));
    } catch (e) {
      return err(`không đọc được khóa ${values.key}: ${(e as Error).message}`, `cannot read the key ${values.key}: ${(e as Error).message}`);
    }
    if (key.asymmetricKeyType !== 'ed25519') return err('khóa không phải ed25519', 'the key is not ed25519');
    const manifest: ReleaseManifest = { name: 'canh-agent', version: values.version, platform, file: basename(arg), size: statSync(arg).size, sha256: await sha256File(arg) };
    const problem = manifestProblem(manifest);
    if (problem) return err(problem, problem);
    const signed: SignedManifest = {
      manifest,
      signature: cryptoSign(null, manifestBytes(manifest), key).toString('base64'),
      keyId: keyIdOf(rawPublicKey(createPublicKey(key))),
    };
    const out = values.sig ?? `${arg}.sig.json`;
    writeFileSync(out, `${JSON.stringify(signed, null, 2)}\n`);
    if (values.json) process.stdout.write(`${JSON.stringify(signed)}\n`);
    else say(`đã ký ${manifest.file} ${manifest.version} (${platform}) → ${out}`, `signed ${manifest.file} ${manifest.version} (${platform}) → ${out}`);
    return 0;
  }

  // The rest works on the collector's store.
  let signed: SignedManifest | undefined;
  if (sub === 'publish') {
    if (!arg)
      return err(
        'cần tệp gói: canh release publish GOI.tar.gz [--sig GOI.tar.gz.sig.json]',
        'needs the package: canh release publish PACKAGE.tar.gz [--sig PACKAGE.tar.gz.sig.json]',
      );
    try {
      signed = JSON.parse(readFileSync(values.sig ?? `${arg}.sig.json`, 'utf8')) as SignedManifest;
    } catch (e) {
      return err(`không đọc được chữ ký: ${(e as Error).message}`, `cannot read the signature: ${(e as Error).message}`);
    }
    const problem = manifestProblem(signed.manifest);
    if (problem) return err(`chữ ký không hợp lệ: ${problem}`, `invalid signature file: ${problem}`);
    if (typeof signed.signature !== 'string' || !/^[A-Za-z0-9+/]{86}(==)?$/.test(signed.signature)) return err('chữ ký không hợp lệ', 'invalid signature');
    const m = signed.manifest;
    if (m.file !== basename(arg)) return err(`chữ ký dành cho ${m.file}, không phải ${basename(arg)}`, `the signature is for ${m.file}, not ${basename(arg)}`);
    const size = statSync(arg).size;
    const sha = await sha256File(arg);
    if (size !== m.size || sha !== m.sha256) return err('tệp gói khác với tệp đã ký (kích thước hoặc SHA-256)', 'the package is not the one signed (size or SHA-256 differ)');
    if (values['public-key'] !== undefined) {
      const k = decodePublicKey(values['public-key']);
      if (typeof k === 'string') return err(k, k);
      if (!verifyManifest(m, signed.signature, k)) return err('chữ ký không khớp khóa công khai đã cho', 'the signature does not verify with the given public key');
    }
  }
  let share: number | undefined;
  let sites: string[] = [];
  if (sub === 'target' && !values.stop) {
    if (!arg || !RELEASE_VERSION.test(arg))
      return err(
        'cần phiên bản: canh release target 1.2.3 [--share 0.1] [--sites A,B] [--force]',
        'needs a version: canh release target 1.2.3 [--share 0.1] [--sites A,B] [--force]',
      );
    share = values.share === undefined ? 0.1 : Number(values.share);
    if (!Number.isFinite(share) || share < 0 || share > 1) return err('--share: từ 0 đến 1 (0.1 = 10% số máy đi trước)', '--share: 0 to 1 (0.1 = 10% of the PCs first)');
    sites = (values.sites ?? '').split(',').filter(Boolean);
    const bad = sites.find((s) => !ID_PATTERN.test(s));
    if (bad) return err(`--sites: mã xã không hợp lệ "${bad}"`, `--sites: not a site id "${bad}"`);
  }
  const source = { file: values.config, dataDir: values['data-dir'] };
  const config = loadCollectorConfig('release', source);
  if (!config) return 2;
  const db = openCollectorStore('release', config, source, { create: sub === 'publish' });
  if (!db) return 2;
  try {
    const store = new AgentUpdateStore(db);
    const now = systemClock.now();
    switch (sub) {
      case 'publish': {
        const m = signed!.manifest;
        const dest = releaseFile(config.dataDir, m.version, m.file);
        mkdirSync(dirname(dest), { recursive: true });
        copyFileSync(arg!, `${dest}.tmp`);
        renameSync(`${dest}.tmp`, dest);
        store.addRelease({ ...m, signature: signed!.signature, keyId: String(signed!.keyId ?? '').slice(0, 64), publishedAt: now, publishedBy: cliActor().actor });
        new AuditLog(db).record(
          { ...cliActor(), action: 'agent_release_publish', target: `version ${m.version}`, details: { platform: m.platform, sha256: m.sha256, keyId: signed!.keyId } },
          now,
        );
        say(`đã đăng phiên bản ${m.version} (${m.platform}) lên máy chủ thu thập`, `published ${m.version} (${m.platform}) to the collector`);
        return 0;
      }
      case 'target': {
        if (values.stop) {
          if (!store.clearRollout()) return err('không có đợt cập nhật nào', 'no rollout in progress', 1);
          new AuditLog(db).record({ ...cliActor(), action: 'agent_update_stop', target: 'rollout' }, now);
          say('đã dừng đợt cập nhật; máy chủ thu thập rút lời mời trong ít giây', 'rollout stopped; the collector withdraws the offers within seconds');
          return 0;
        }
        if (store.releasesOf(arg!).length === 0) return err(`chưa đăng phiên bản ${arg} (canh release publish)`, `no published release ${arg} (canh release publish)`, 1);
        store.setRollout({ version: arg!, share: share!, sites, force: values.force === true, startedAt: now, startedBy: cliActor().actor });
        new AuditLog(db).record(
          { ...cliActor(), action: 'agent_update_rollout', target: `version ${arg}`, details: { share: share!, sites: sites.join(','), force: values.force === true } },
          now,
        );
        say(
          `đợt cập nhật ${arg}: ${Math.round(share! * 100)}% số máy${sites.length ? ` và các xã ${sites.join(', ')}` : ''} trước, ${values.force ? 'cả trong giờ làm việc' : 'ngoài giờ làm việc'}`,
          `rollout ${arg}: ${Math.round(share! * 100)}% of the PCs${sites.length ? ` and sites ${sites.join(', ')}` : ''} first, ${values.force ? 'during working hours too' : 'outside working hours'}`,
        );
        return 0;
      }
      case 'status': {
        const out = { releases: store.releases(), rollout: store.rollout() ?? null, offers: store.offers(), reports: store.reports() };
        process.stdout.write(`${JSON.stringify(out, null, values.json ? undefined : 2)}\n`);
        return 0;
      }
    }
    return 2;
  } catch (e) {
    process.stderr.write(`canh release: ${(e as Error).message}\n`);
    return 1;
  } finally {
    db.close();
  }
}
