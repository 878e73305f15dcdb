import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';

const gunzipAsync = promisify(gunzip);

/** A file of a release package. */
export interface PackageFile {
  name: string;
  data: Buffer;
}

const MAX_ENTRIES = 1000;
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * The files of a release package (a tar.gz with one top folder holding the agent bundle,
 * as scripts/build-linux-agent.mjs makes it), read in memory with bounds: at most
 * `maxBytes` unpacked and {@link MAX_ENTRIES} entries. Only regular files directly in the
 * top folder are kept, with plain names: no links, devices, absolute paths or `..`, so a
 * package can never write outside its version folder. The signature was checked before
 * (updater.ts); these checks guard against a bad build, not an attacker.
 */
export async function unpackTarGz(gz: Buffer, maxBytes: number): Promise<PackageFile[]> {
  let tar: Buffer;
  try {
    tar = await gunzipAsync(gz, { maxOutputLength: maxBytes });
  } catch (err) {
    throw new Error(`not a gzip file or larger than ${maxBytes} bytes unpacked: ${(err as Error).message}`, { cause: err });
  }
  const files: PackageFile[] = [];
  let off = 0;
  let entries = 0;
  let longName: string | undefined;
  while (off + 512 <= tar.length) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break; // end of archive
    if (++entries > MAX_ENTRIES) throw new Error(`more than ${MAX_ENTRIES} entries`);
    const str = (a: number, n: number) => {
      const s = h.subarray(a, a + n);
      const z = s.indexOf(0);
      return s.subarray(0, z < 0 ? n : z).toString('utf8');
    };
    const sum = h.reduce((acc, b, i) => acc + (i >= 148 && i < 156 ? 32 : b), 0);
    if (parseInt(str(148, 8).trim() || 'x', 8) !== sum) throw new Error(`bad tar header checksum at ${off}`);
    const size = parseInt(str(124, 12).trim() || '0', 8);
    if (!Number.isSafeInteger(size) || size < 0 || off + 512 + size > tar.length) throw new Error(`bad tar entry size at ${off}`);
    const type = String.fromCharCode(h[156] ?? 0);
    const magic = str(257, 6);
    const prefix = magic.startsWith('ustar') ? str(345, 155) : '';
    let name = longName ?? (prefix ? `${prefix}/${str(0, 100)}` : str(0, 100));
    longName = undefined;
    const data = tar.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      // GNU long name for the next entry.
      longName = data.toString('utf8').replace(/\0+$/, '');
      continue;
    }
    if (type === 'x' || type === 'g' || type === '5') continue; // pax headers, folders
    if (type !== '0' && type !== '\0') continue; // links, devices, fifos: never unpacked
    name = name.replace(/^\.\//, '');
    const parts = name.split('/');
    // `<top>/<file>`: the bundle's files; anything deeper is not part of the agent.
    if (parts.length !== 2 || parts[0] === '..' || parts[0] === '' || !SAFE_NAME.test(parts[1]!)) continue;
    files.push({ name: parts[1]!, data: Buffer.from(data) });
  }
  return files;
}
