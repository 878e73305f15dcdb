/**
 * The `metrics` of each sample record exactly as the agent wrote them (issue 12, group
 * commit): the collector stores a sample's metrics as JSON text, and serialising the parsed
 * object again cost ~6 µs per sample, about a tenth of the ingest loop at saturation. When
 * the decoder took the parsed object unchanged (contract/fast-sample.ts), the agent's own
 * text of that value is the same JSON: `JSON.parse` of it gives what the decoder checked.
 *
 * One pass over the message text. A record's text is given only when it is certain to be
 * the value `JSON.parse` put into the record's `metrics`; anything else gives `undefined`
 * and the caller serialises the object as before:
 * - the text has whitespace outside strings (not the compact JSON agents write; it also
 *   keeps padding out of the store);
 * - a key of the record (or of the batch envelope) has an escape (`"metr\u0069cs"` is
 *   `metrics` to `JSON.parse`, not to a comparison of the text);
 * - the record has no `metrics` key, or more than one (the last one wins in `JSON.parse`);
 * - the envelope has no `records` key or more than one;
 * - a character of the message is not ASCII (the scan reads the bytes, `bytes`, whose
 *   offsets are then not the text's).
 *
 * `batch`: the text is a batch envelope `{"v":1,"records":[…]}`; the result has one entry
 * per element of `records`, in order. Otherwise the text is one record: one entry. Call it
 * only on text `JSON.parse` accepted (the caller did parse it).
 */
export function rawMetricsTexts(text: string, bytes: Uint8Array, batch: boolean): Array<string | undefined> | undefined {
  // The scan reads the UTF-8 bytes (over a Uint8Array it took ~2.6 µs a 1 KB record, over
  // charCodeAt 5–6.5 µs); their offsets are the text's only when every character is ASCII.
  if (bytes.length !== text.length) return undefined;
  const b = bytes;
  const recordDepth = batch ? 3 : 1;
  const out: Array<string | undefined> = [];
  /** Open containers: true for an object. */
  const objects: boolean[] = [];
  let expectKey = false;
  // The batch envelope.
  let recordsKeys = 0;
  let recordsNext = false;
  let inRecords = false;
  let element = 0;
  // The current record.
  let inRecord = false;
  let metricsKeys = 0;
  let keyEscaped = false;
  let valueStart = -1;
  let valueEnd = -1;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    if (c === 0x22) {
      // A string: to its closing quote, stepping over each escape (a loop: most strings are
      // short keys, for which a call to indexOf costs more than it saves).
      let j = i + 1;
      let escaped = false;
      for (; j < n; j++) {
        const d = b[j]!;
        if (d === 0x22) break;
        if (d === 0x5c) {
          escaped = true;
          j++;
        }
      }
      if (j >= n) return undefined; // not JSON: the caller parsed something else
      if (expectKey) {
        expectKey = false;
        const depth = objects.length;
        if (depth === recordDepth && inRecord) {
          if (escaped) keyEscaped = true;
          else if (j - i - 1 === 7 && text.startsWith('metrics', i + 1)) {
            metricsKeys++;
            valueStart = j + 2; // after the colon (compact JSON)
            valueEnd = -1;
          }
        } else if (batch && depth === 1) {
          if (escaped) return undefined;
          if (j - i - 1 === 7 && text.startsWith('records', i + 1)) {
            recordsKeys++;
            recordsNext = true;
          }
        }
      }
      i = j;
      continue;
    }
    switch (c) {
      case 0x7b: // {
      case 0x5b: {
        // [
        const isObject = c === 0x7b;
        objects.push(isObject);
        expectKey = isObject;
        const depth = objects.length;
        if (batch && depth === 2) {
          inRecords = recordsNext && !isObject;
          recordsNext = false;
          element = 0;
        }
        if (isObject && depth === recordDepth && (!batch || inRecords)) {
          inRecord = true;
          metricsKeys = 0;
          keyEscaped = false;
          valueStart = -1;
          valueEnd = -1;
        }
        break;
      }
      case 0x7d: // }
      case 0x5d: {
        // ]
        const depth = objects.length;
        if (depth === recordDepth && inRecord) {
          if (valueStart !== -1 && valueEnd === -1) valueEnd = i;
          out[batch ? element : 0] = !keyEscaped && metricsKeys === 1 && valueEnd > valueStart ? text.slice(valueStart, valueEnd) : undefined;
          inRecord = false;
        }
        if (batch && depth === 2 && inRecords) {
          // The end of `records`: one entry per element.
          out.length = element + 1;
          inRecords = false;
        }
        objects.pop();
        expectKey = false;
        break;
      }
      case 0x2c: {
        // ,
        const depth = objects.length;
        if (depth === recordDepth && inRecord && valueStart !== -1 && valueEnd === -1) valueEnd = i;
        if (batch && depth === 2 && inRecords) element++;
        expectKey = objects[depth - 1] === true;
        break;
      }
      case 0x20:
      case 0x09:
      case 0x0a:
      case 0x0d:
        return undefined;
      default:
        break;
    }
  }
  if (batch && recordsKeys !== 1) return undefined;
  if (!batch && out.length === 0) return undefined;
  return out;
}
