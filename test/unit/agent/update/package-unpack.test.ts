import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { unpackTarGz } from '../../../../agent/update/package-unpack.js';

/** A tar.gz made by the system's tar, as scripts/build-linux-agent.mjs makes the packages. */
function tarGz(build: (dir: string) => void): Buffer {
  const root = mkdtempSync(join(tmpdir(), 'canh-unpack-'));
  const top = join(root, 'canh-agent-linux');
  mkdirSync(top);
  build(top);
  const out = join(root, 'pkg.tar.gz');
  execFileSync('tar', ['--sort=name', '--owner=0', '--group=0', '-czf', out, '-C', root, 'canh-agent-linux']);
  return readFileSync(out);
}

describe('release package unpacking', () => {
  it('keeps the regular files of the top folder', async () => {
    const gz = tarGz((d) => {
      writeFileSync(join(d, 'canh-agent.mjs'), 'console.log(1)');
      writeFileSync(join(d, 'chunk-A.mjs'), 'x'.repeat(3000));
      mkdirSync(join(d, 'sub'));
      writeFileSync(join(d, 'sub', 'deeper.mjs'), 'no');
    });
    const files = await unpackTarGz(gz, 1024 * 1024);
    expect(files.map((f) => f.name).sort()).toEqual(['canh-agent.mjs', 'chunk-A.mjs']);
    expect(files.find((f) => f.name === 'chunk-A.mjs')!.data.length).toBe(3000);
  });

  it('never unpacks links', async () => {
    const gz = tarGz((d) => {
      writeFileSync(join(d, 'canh-agent.mjs'), 'ok');
      symlinkSync('/etc/passwd', join(d, 'link.mjs'));
    });
    expect((await unpackTarGz(gz, 1024 * 1024)).map((f) => f.name)).toEqual(['canh-agent.mjs']);
  });

  it('refuses more than the size bound unpacked, and what is not gzip', async () => {
    const gz = tarGz((d) => writeFileSync(join(d, 'canh-agent.mjs'), 'x'.repeat(200_000)));
    await expect(unpackTarGz(gz, 50_000)).rejects.toThrow(/larger than 50000/);
    await expect(unpackTarGz(Buffer.from('not gzip'), 50_000)).rejects.toThrow(/not a gzip/);
  });

  it('refuses a tar whose header checksum is wrong', async () => {
    const tar = Buffer.alloc(2048);
    tar.write('canh-agent-linux/canh-agent.mjs', 0);
    tar.write('00000000001\0', 124);
    tar.write('0000000\0', 148);
    tar.write('0', 156);
    await expect(unpackTarGz(gzipSync(tar), 1_000_000)).rejects.toThrow(/checksum/);
  });
});
