import { inflateSync } from 'node:zlib';

/**
 * Just enough of PDF (ISO 32000-1) to read back what Chromium's printer wrote: the page
 * tree, each page's /MediaBox, and its text through the fonts' /ToUnicode maps (§9.10.3).
 * Chromium (Skia) writes plain indirect objects with Flate-compressed streams, Type0
 * fonts whose strings are 2-byte glyph ids (`<0012003a> Tj`, `[<…> -12 <…>] TJ`) and
 * Type3 fonts with 1-byte codes; nothing else is handled. For tests only: no PDF library is a dependency of the project.
 */
export interface PdfPage {
  /** [x0, y0, x1, y1] in points. */
  mediaBox: number[];
  /**
   * The text shown on the page, in content-stream order, runs joined without separators:
   * Chromium starts a new run wherever the font changes (a Vietnamese letter from a
   * fallback font splits "hạ" into "h" + "ạ"), so only the joined text reads as written.
   */
  text: string;
}

interface PdfObject {
  dict: string;
  stream: Buffer | null;
}

function objects(pdf: Buffer): Map<number, PdfObject> {
  const out = new Map<number, PdfObject>();
  const latin = pdf.toString('latin1');
  const re = /(\d+) 0 obj\b/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(latin))) {
    const start = m.index + m[0].length;
    const end = latin.indexOf('endobj', start);
    if (end < 0) break;
    const body = latin.slice(start, end);
    const s = body.indexOf('stream');
    let stream: Buffer | null = null;
    let dict = body;
    if (s >= 0 && /^\s*<</.test(body)) {
      dict = body.slice(0, s);
      let dataStart = start + s + 'stream'.length;
      if (latin[dataStart] === '\r') dataStart++;
      if (latin[dataStart] === '\n') dataStart++;
      const len = /\/Length (\d+)(?! \d+ R)/.exec(dict);
      const dataEnd = len ? dataStart + Number(len[1]) : latin.lastIndexOf('endstream', end);
      const raw = pdf.subarray(dataStart, dataEnd);
      stream = /\/FlateDecode/.test(dict) ? inflateSync(raw) : raw;
    }
    out.set(Number(m[1]), { dict, stream });
    re.lastIndex = end;
  }
  return out;
}

const ref = (dict: string, key: string): number | null => {
  const m = new RegExp(`/${key}\\s+(\\d+) 0 R`).exec(dict);
  return m ? Number(m[1]) : null;
};

/** A /ToUnicode CMap: glyph id (hex) → text. */
function toUnicode(cmap: string): Map<number, string> {
  const map = new Map<number, string>();
  const utf16 = (hex: string) => {
    const units: number[] = [];
    for (let i = 0; i < hex.length; i += 4) units.push(parseInt(hex.slice(i, i + 4), 16));
    return String.fromCharCode(...units);
  };
  for (const block of cmap.matchAll(/beginbfchar([\s\S]*?)endbfchar/g)) {
    for (const [, src, dst] of block[1]!.matchAll(/<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>/g)) map.set(parseInt(src!, 16), utf16(dst!));
  }
  for (const block of cmap.matchAll(/beginbfrange([\s\S]*?)endbfrange/g)) {
    for (const [, lo, hi, dst] of block[1]!.matchAll(/<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>/g)) {
      const base = parseInt(dst!.slice(-4), 16);
      for (let g = parseInt(lo!, 16), k = 0; g <= parseInt(hi!, 16); g++, k++) map.set(g, utf16(dst!.slice(0, -4)) + String.fromCharCode(base + k));
    }
  }
  return map;
}

/** The pages of a PDF in order, with their media box and text. */
export function pdfPages(pdf: Buffer): PdfPage[] {
  const objs = objects(pdf);
  const catalog = [...objs.values()].find((o) => /\/Type\s*\/Catalog/.test(o.dict));
  if (!catalog) throw new Error('no /Catalog in the PDF');
  const pages: PdfPage[] = [];
  const walk = (id: number, inherited: { mediaBox: number[] | null; resources: string | null }) => {
    const o = objs.get(id);
    if (!o) throw new Error(`object ${id} missing`);
    const box = /\/MediaBox\s*\[([^\]]*)\]/.exec(o.dict);
    const mediaBox = box ? box[1]!.trim().split(/\s+/).map(Number) : inherited.mediaBox;
    const resId = ref(o.dict, 'Resources');
    const resources = resId !== null ? objs.get(resId)!.dict : (/\/Resources\s*(<<[\s\S]*>>)/.exec(o.dict)?.[1] ?? inherited.resources);
    if (/\/Type\s*\/Pages/.test(o.dict)) {
      const kids = /\/Kids\s*\[([^\]]*)\]/.exec(o.dict)![1]!;
      for (const k of kids.matchAll(/(\d+) 0 R/g)) walk(Number(k[1]), { mediaBox, resources });
      return;
    }
    pages.push({ mediaBox: mediaBox ?? [], text: pageText(o.dict, resources ?? '', objs) });
  };
  walk(ref(catalog.dict, 'Pages')!, { mediaBox: null, resources: null });
  return pages;
}

function pageText(page: string, resources: string, objs: Map<number, PdfObject>): string {
  // Font resource name → its ToUnicode map.
  let fontDict = /\/Font\s*(<<[^>]*>>)/.exec(resources)?.[1] ?? '';
  const fontRef = ref(resources, 'Font');
  if (!fontDict && fontRef !== null) fontDict = objs.get(fontRef)!.dict;
  // Type0 fonts (Identity-H) take 2-byte codes; the Type3 fonts Skia writes for glyphs it
  // draws itself (a Vietnamese letter in synthetic bold) take 1-byte codes.
  const fonts = new Map<string, { width: number; map: Map<number, string> }>();
  for (const [, name, id] of fontDict.matchAll(/\/([^\s/<>]+)\s+(\d+) 0 R/g)) {
    const dict = objs.get(Number(id))?.dict ?? '';
    const tu = ref(dict, 'ToUnicode');
    fonts.set(name!, { width: /\/Identity-H/.test(dict) ? 4 : 2, map: tu === null ? new Map() : toUnicode(objs.get(tu)!.stream!.toString('latin1')) });
  }
  const contents = /\/Contents\s*\[([^\]]*)\]/.exec(page)?.[1] ?? /\/Contents\s+(\d+ 0 R)/.exec(page)?.[1] ?? '';
  const content = [...contents.matchAll(/(\d+) 0 R/g)].map((c) => objs.get(Number(c[1]))!.stream!.toString('latin1')).join('\n');
  let font = { width: 4, map: new Map<number, string>() };
  let text = '';
  const show = (hex: string) => {
    for (let i = 0; i + font.width <= hex.length; i += font.width) text += font.map.get(parseInt(hex.slice(i, i + font.width), 16)) ?? '';
  };
  for (const tok of content.matchAll(/\/([^\s/<>[\]()]+)\s+[\d.]+\s+Tf|\[((?:[^\]]|\](?!\s*TJ))*)\]\s*TJ|<([0-9a-fA-F]*)>\s*Tj/g)) {
    if (tok[1] !== undefined) font = fonts.get(tok[1]) ?? { width: 4, map: new Map() };
    else if (tok[2] !== undefined) for (const h of tok[2].matchAll(/<([0-9a-fA-F]*)>/g)) show(h[1]!);
    else if (tok[3] !== undefined) show(tok[3]);
  }
  return text;
}
