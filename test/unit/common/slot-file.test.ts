import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeSlot, encodeSlot, readSlotFile, SLOT_BYTES, SLOT_STRIDE, SlotFile } from '../../../common/slot-file.js';

describe('SlotFile (two slots overwritten in place)', () => {
  it('writes the older slot each time, reads the newest valid one, and numbers on after a reopen', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'canh-slot-')), 'state.slots');
    expect(await readSlotFile(path)).toBeNull();
    const f = new SlotFile(path, { fsync: true });
    await f.write('{"a":1}');
    await f.write('{"a":2}');
    await f.write('{"a":3}');
    f.close();
    expect(await readSlotFile(path)).toBe('{"a":3}');
    const buf = readFileSync(path);
    expect(buf.length).toBe(SLOT_STRIDE + SLOT_BYTES);
    expect(decodeSlot(buf.subarray(0, SLOT_BYTES))).toEqual({ n: 2, text: '{"a":3}' });
    expect(decodeSlot(buf.subarray(SLOT_STRIDE))).toEqual({ n: 1, text: '{"a":2}' });
    if (process.platform !== 'win32') expect(statSync(path).mode & 0o777).toBe(0o600);

    // A new writer (the next run) overwrites the older slot (1) with n = 3, then slot 0.
    const g = new SlotFile(path, { fsync: false });
    await g.write('{"a":4}');
    expect(decodeSlot(readFileSync(path).subarray(SLOT_STRIDE))).toEqual({ n: 3, text: '{"a":4}' });
    expect(await readSlotFile(path)).toBe('{"a":4}');
    await g.write('{"a":5}');
    g.close();
    expect(await readSlotFile(path)).toBe('{"a":5}');
  });

  it('a torn slot (bytes changed under its CRC) is skipped: the other one is read', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'canh-slot-')), 'state.slots');
    const f = new SlotFile(path, { fsync: false });
    await f.write('{"through":100}');
    await f.write('{"through":105}');
    f.close();
    const buf = readFileSync(path);
    const at = SLOT_STRIDE + buf.subarray(SLOT_STRIDE).indexOf('105');
    buf[at + 2] = 0x39; // 109, its CRC unchanged
    writeFileSync(path, buf);
    expect(await readSlotFile(path)).toBe('{"through":100}');
    buf[5] = 0x7e;
    writeFileSync(path, buf);
    expect(await readSlotFile(path)).toBeNull();
  });

  it('refuses a text that does not fit a slot or spans lines', () => {
    expect(() => encodeSlot(1, 'x'.repeat(SLOT_BYTES))).toThrow(RangeError);
    expect(() => encodeSlot(1, 'a\nb')).toThrow(RangeError);
    expect(decodeSlot(encodeSlot(7, 'ok'))).toEqual({ n: 7, text: 'ok' });
    expect(decodeSlot(Buffer.alloc(SLOT_BYTES))).toBeNull();
  });
});
