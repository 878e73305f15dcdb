/**
 * The board's static files (issue 6): every text in Vietnamese and English, every key the
 * script uses translated (including the ones built from contract enums), no way for a
 * string from the field to become HTML, no inline script (strict CSP), and plain ES2017
 * for old office browsers.
 */
import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { transform } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { BOARD_DIR, BOARD_FILES, loadBoardAssets, boardWeight } from '../../collector/http/board-assets.js';
import type { HostOutageCause, IncidentCause } from '../../collector/outage/outage-types.js';
import { EVENT_TYPES } from '../../contract/schemas.js';

const appJs = readFileSync(`${BOARD_DIR}app.js`, 'utf8');
const i18nJs = readFileSync(`${BOARD_DIR}i18n.js`, 'utf8');
const indexHtml = readFileSync(`${BOARD_DIR}index.html`, 'utf8');

function texts(): { vi: Record<string, string>; en: Record<string, string> } {
  const window: { CANH_I18N?: { vi: Record<string, string>; en: Record<string, string> } } = {};
  runInNewContext(i18nJs, { window });
  return window.CANH_I18N!;
}

describe('board texts', () => {
  it('has the same keys in Vietnamese and English, none empty', () => {
    const { vi, en } = texts();
    expect(Object.keys(vi).sort()).toEqual(Object.keys(en).sort());
    for (const [k, v] of Object.entries(vi)) expect(v.length, `vi.${k}`).toBeGreaterThan(0);
    for (const [k, v] of Object.entries(en)) expect(v.length, `en.${k}`).toBeGreaterThan(0);
  });

  it('writes Vietnamese with its diacritics (NFC, as typed)', () => {
    const { vi } = texts();
    expect(vi.login).toBe('Đăng nhập');
    expect(vi.st_offline).toBe('mất kết nối');
    expect(vi.cause_power_cut).toBe('mất điện');
    for (const [k, v] of Object.entries(vi)) expect(v, `vi.${k}`).toBe(v.normalize('NFC'));
    expect(Object.values(vi).filter((v) => /[ăâđêôơưáàảãạếềểễệốồổỗộớờởỡợứừửữự]/i.test(v)).length).toBeGreaterThan(100);
  });

  it('translates every key app.js asks for, literal or built from a contract value', () => {
    const { vi } = texts();
    const literal = [...appJs.matchAll(/\bt\('([A-Za-z0-9_]+)'\)/g)].map((m) => m[1]!);
    expect(literal.length).toBeGreaterThan(50);
    const outageCauses: HostOutageCause[] = ['power_loss', 'crash', 'hang_reset', 'network', 'freeze', 'unknown', 'offline'];
    const incidentCauses: IncidentCause[] = ['power_cut', 'network_cut', 'mixed', 'unknown'];
    const built = [
      ...EVENT_TYPES.map((e) => `ev_${e}`),
      ...[...outageCauses, ...incidentCauses].map((c) => `cause_${c}`),
      ...['online', 'offline', 'unknown'].map((s) => `st_${s}`),
      ...['ok', 'warning', 'critical'].map((l) => `lvl_${l}`),
      ...['gateway', 'configured'].map((r) => `role_${r}`),
      ...['info', 'warning', 'critical'].map((s) => `sev_${s}`),
      ...['pending', 'firing', 'resolved'].map((s) => `al_${s}`),
      ...['active', 'pending', 'expired'].map((s) => `si_${s}`),
      ...['1h', '24h', '7d', '30d'].map((r) => `r_${r}`),
      ...[...appJs.match(/var RULES = \[([^\]]*)\]/)![1]!.matchAll(/'([a-z_]+)'/g)].map((m) => `rule_${m[1]}`),
    ];
    const missing = [...literal, ...built].filter((k) => !(k in vi));
    expect(missing).toEqual([]);
  });
});

describe('board script safety', () => {
  it('never turns a string into HTML', () => {
    const code = appJs + readFileSync(`${BOARD_DIR}series.js`, 'utf8') + i18nJs;
    for (const sink of ['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'document.write', 'eval(', 'new Function', 'setAttribute(\'on', 'javascript:']) {
      expect(code.includes(sink), sink).toBe(false);
    }
  });

  it('index.html has no inline script, handler or style (CSP script-src/style-src \'self\')', () => {
    expect(indexHtml).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
    expect(indexHtml).not.toMatch(/\son[a-z]+\s*=/i);
    expect(indexHtml).not.toMatch(/<style|\sstyle=/i);
    expect(indexHtml).not.toMatch(/https?:\/\//i); // nothing from the internet
  });

  it('is plain ES2017 (old office browsers): lowering to ES2017 changes nothing', async () => {
    for (const code of [appJs, i18nJs, readFileSync(`${BOARD_DIR}series.js`, 'utf8')]) {
      const modern = await transform(code, { target: 'esnext', loader: 'js' });
      const old = await transform(code, { target: 'es2017', loader: 'js' });
      expect(old.code).toBe(modern.code);
    }
  });
});

describe('board assets', () => {
  it('loads every file (uPlot from node_modules when running from source) and versions index.html', () => {
    const assets = loadBoardAssets();
    for (const f of BOARD_FILES) expect(assets.get(f.name)?.body.length, f.name).toBeGreaterThan(0);
    const html = assets.get('index.html')!.body.toString('utf8');
    expect(html).not.toContain('{{');
    expect(html).toContain(`app.js?v=${assets.get('app.js')!.hash}`);
    expect(html).toContain(`uPlot.iife.min.js?v=${assets.get('uPlot.iife.min.js')!.hash}`);
    const w = boardWeight(assets);
    expect(w.gzip).toBeLessThan(w.raw);
    expect(w.raw).toBeLessThan(200_000);
  });

  it('says which file is missing and how to get it', () => {
    expect(() => loadBoardAssets('/nonexistent/')).toThrow(/board file app\.js missing from \/nonexistent\/: run `npm run build`/);
  });
});
