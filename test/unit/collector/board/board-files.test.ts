/**
 * The board's static files (issue 6): every text in Vietnamese and English, every key the
 * script uses translated (including the ones built from contract enums), no way for a
 * string from the field to become HTML, no inline script (strict CSP), and plain ES2017
 * for old office browsers.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { buildSync, transform } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { BUILT_IN_RULES } from '../../../../collector/alerting/rules/registry.js';
import { BOARD_DIR, BOARD_FILES, loadBoardAssets, boardWeight } from '../../../../collector/http/board-assets.js';
import type { HostOutageCause, IncidentCause } from '../../../../collector/outage/outage-types.js';
import { UPDATE_STATES } from '../../../../contract/agent-update.js';
import { EVENT_TYPES } from '../../../../contract/schemas.js';

/** Every module of the board's script (main.js, views/…), bundled into app.js by the build. */
const modules = readdirSync(BOARD_DIR, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.js'))
  .sort();
const scriptJs = modules.map((f) => readFileSync(`${BOARD_DIR}${f}`, 'utf8')).join('\n');
const indexHtml = readFileSync(`${BOARD_DIR}index.html`, 'utf8');

function texts(): { vi: Record<string, string>; en: Record<string, string> } {
  const module = { exports: {} as { TEXTS?: { vi: Record<string, string>; en: Record<string, string> } } };
  // i18n.js with the per-language tables it imports (i18n-vi.js, i18n-en.js), as the board bundle has them.
  const bundled = buildSync({ entryPoints: [`${BOARD_DIR}i18n.js`], bundle: true, format: 'cjs', write: false }).outputFiles[0]!.text;
  runInNewContext(bundled, { module, exports: module.exports });
  return module.exports.TEXTS!;
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

  it('translates every key the script asks for, literal or built from a contract value', () => {
    const { vi } = texts();
    const literal = [...scriptJs.matchAll(/\bt\('([A-Za-z0-9_]+)'\)/g)].map((m) => m[1]!);
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
      // The silence form lists the collector's rules (GET /api/rules) by the board's short names.
      ...BUILT_IN_RULES.map((r) => `rule_${r.name}`),
      // Agent updates (issue 16): the states an agent reports, the offer, the rollout's stage.
      ...[...UPDATE_STATES, 'offered'].map((s) => `upd_${s}`),
      ...['1', '2'].map((n) => `rolloutStage${n}`),
    ];
    const missing = [...literal, ...built].filter((k) => !(k in vi));
    expect(missing).toEqual([]);
  });
});

describe('board script safety', () => {
  it('never turns a string into HTML', () => {
    const code = scriptJs;
    for (const sink of ['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'document.write', 'eval(', 'new Function', "setAttribute('on", 'javascript:']) {
      expect(code.includes(sink), sink).toBe(false);
    }
  });

  it("index.html has no inline script, handler or style (CSP script-src/style-src 'self')", () => {
    expect(indexHtml).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
    expect(indexHtml).not.toMatch(/\son[a-z]+\s*=/i);
    expect(indexHtml).not.toMatch(/<style|\sstyle=/i);
    expect(indexHtml).not.toMatch(/https?:\/\//i); // nothing from the internet
  });

  it('is plain ES2017 (old office browsers): lowering to ES2017 changes nothing', async () => {
    expect(modules).toEqual(expect.arrayContaining(['main.js', 'i18n.js', 'series.js', 'views/alerts.js']));
    for (const f of modules) {
      const code = readFileSync(`${BOARD_DIR}${f}`, 'utf8');
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
    // One classic script (no `type=module` on old office browsers): the modules bundled in.
    const app = assets.get('app.js')!.body.toString('utf8');
    expect(app).toMatch(/^"use strict";\(\(\)=>\{/);
    expect(app).toContain('api/rules');
    expect(html).not.toContain('i18n.js');
    const w = boardWeight(assets);
    expect(w.gzip).toBeLessThan(w.raw);
    expect(w.raw).toBeLessThan(200_000);
  });

  it('says which file is missing and how to get it', () => {
    expect(() => loadBoardAssets('/nonexistent/')).toThrow(/board file app\.js missing from \/nonexistent\/: run `npm run build`/);
  });
});
