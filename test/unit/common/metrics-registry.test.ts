import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../../../common/metrics-registry.js';

describe('MetricsRegistry series keys', () => {
  it('renders no label, one label and several labels sorted by name, as one series each', () => {
    const m = new MetricsRegistry();
    const c = m.counter('canh_test_total', 'Test.');
    c.inc();
    c.inc({}, 2);
    c.inc({ reason: 'schema' });
    c.inc({ reason: 'schema' });
    c.inc({ site: 'xa-1', reason: 'bad_json' });
    c.inc({ reason: 'bad_json', site: 'xa-1' });
    const text = m.render();
    expect(text).toContain('\ncanh_test_total 3\n');
    expect(text).toContain('canh_test_total{reason="schema"} 2');
    expect(text).toContain('canh_test_total{reason="bad_json",site="xa-1"} 2');
    expect(c.get({ site: 'xa-1', reason: 'bad_json' })).toBe(2);
    expect(c.get({ reason: 'schema' })).toBe(2);
    expect(c.get()).toBe(3);
  });

  it('escapes backslash, newline and quote in label values, alone and among others', () => {
    const m = new MetricsRegistry();
    const g = m.gauge('canh_test', 'Test.');
    g.set(1, { host: 'a"b\\c\nd' });
    g.set(2, { host: 'x"', site: 'y\\' });
    const text = m.render();
    expect(text).toContain('canh_test{host="a\\"b\\\\c\\nd"} 1');
    expect(text).toContain('canh_test{host="x\\"",site="y\\\\"} 2');
    expect(g.get({ host: 'a"b\\c\nd' })).toBe(1);
  });

  it('bounds the label combinations of one metric (untrusted values land in one overflow series)', () => {
    const m = new MetricsRegistry();
    const c = m.counter('canh_test_total', 'Test.');
    for (let i = 0; i < 1005; i++) c.inc({ host: `h${i}` });
    const lines = m
      .render()
      .split('\n')
      .filter((l) => l.startsWith('canh_test_total{'));
    expect(lines).toHaveLength(1001);
    expect(lines).toContain('canh_test_total{overflow="true"} 5');
  });
});
