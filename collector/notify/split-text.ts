import type { Language } from './notification.js';
import { words } from './render-words.js';

/**
 * Cuts `text` into parts of at most `limit` characters (Unicode code points, the way
 * Zalo counts), between paragraphs where possible, then between lines, then anywhere;
 * each part of several starts with `(i/n) `. Beyond `maxParts`, the last part ends with a
 * note that the rest was left out (summarised rather than flooding the group).
 */
export function splitText(text: string, limit: number, maxParts: number, lang: Language): string[] {
  const len = (s: string): number => [...s].length;
  if (len(text) <= limit) return [text];
  const prefixRoom = 10; // "(12/12) " fits
  const budget = limit - prefixRoom;
  const pieces: string[] = [];
  const pushHard = (s: string): void => {
    const cps = [...s];
    for (let i = 0; i < cps.length; i += budget) pieces.push(cps.slice(i, i + budget).join(''));
  };
  for (const para of text.split('\n\n')) {
    if (len(para) <= budget) {
      pieces.push(para);
      continue;
    }
    let cur = '';
    for (const line of para.split('\n')) {
      if (len(line) > budget) {
        if (cur) pieces.push(cur);
        cur = '';
        pushHard(line);
      } else if (!cur) cur = line;
      else if (len(cur) + 1 + len(line) <= budget) cur += `\n${line}`;
      else {
        pieces.push(cur);
        cur = line;
      }
    }
    if (cur) pieces.push(cur);
  }
  // Pack pieces into parts.
  const parts: string[] = [];
  let cur = '';
  for (const p of pieces) {
    if (!cur) cur = p;
    else if (len(cur) + 2 + len(p) <= budget) cur += `\n\n${p}`;
    else {
      parts.push(cur);
      cur = p;
    }
  }
  if (cur) parts.push(cur);
  let out = parts;
  if (parts.length > maxParts) {
    const note = words(lang).truncated(parts.length - maxParts);
    out = parts.slice(0, maxParts);
    const last = [...out[maxParts - 1]!];
    const room = budget - len(note) - 2;
    out[maxParts - 1] = `${last.length > room ? last.slice(0, room).join('') : last.join('')}\n\n${note}`;
  }
  const n = out.length;
  return n === 1 ? out : out.map((p, i) => `(${i + 1}/${n}) ${p}`);
}
