/**
 * A small MIME reader for tests that receive real mail (smtp-server): headers (RFC 2047
 * words decoded), nested multipart bodies, base64 / quoted-printable parts as bytes.
 */
export interface MimePart {
  headers: Record<string, string>;
  /** Lower-case media type, e.g. `text/html`. */
  type: string;
  /** `filename` of the Content-Disposition (decoded), if any. */
  filename: string | undefined;
  /** The decoded body (leaf parts). */
  body: Buffer;
  parts: MimePart[];
}

export function decodeWords(v: string): string {
  return v.replace(/\?=\s+=\?/g, '?==?').replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_m, _cs: string, enc: string, data: string) =>
    enc.toUpperCase() === 'B'
      ? Buffer.from(data, 'base64').toString('utf8')
      : Buffer.from(
          data.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_x, h: string) => String.fromCharCode(parseInt(h, 16))),
          'latin1',
        ).toString('utf8'),
  );
}

export function parseMime(raw: string): MimePart {
  const sep = raw.indexOf('\r\n\r\n');
  const head = sep < 0 ? raw : raw.slice(0, sep);
  const body = sep < 0 ? '' : raw.slice(sep + 4);
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).toLowerCase()] = decodeWords(line.slice(i + 1).trim());
  }
  const ct = headers['content-type'] ?? 'text/plain';
  const type = ct.split(';')[0]!.trim().toLowerCase();
  const filename = /filename\*?=(?:utf-8'')?"?([^";]+)"?/i.exec(headers['content-disposition'] ?? '')?.[1];
  const boundary = /boundary="?([^";]+)"?/i.exec(ct)?.[1];
  if (type.startsWith('multipart/') && boundary) {
    const chunks = body.split(`--${boundary}`).slice(1, -1);
    return { headers, type, filename, body: Buffer.alloc(0), parts: chunks.map((c) => parseMime(c.replace(/^\r\n/, ''))) };
  }
  const enc = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  const data =
    enc === 'base64'
      ? Buffer.from(body.replace(/\s+/g, ''), 'base64')
      : enc === 'quoted-printable'
        ? Buffer.from(
            body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/gi, (_x, h: string) => String.fromCharCode(parseInt(h, 16))),
            'latin1',
          )
        : Buffer.from(body, 'utf8');
  return { headers, type, filename: filename && decodeURIComponent(filename), body: data, parts: [] };
}

/** Every leaf part, depth first. */
export function leaves(p: MimePart): MimePart[] {
  return p.parts.length ? p.parts.flatMap(leaves) : [p];
}
