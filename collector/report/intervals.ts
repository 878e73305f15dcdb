/** Half-open time intervals [start, end) in epoch ms: merging and overlap, for outage figures. */
export type Interval = readonly [number, number];

/** Sorted, non-overlapping union of `xs` (empty ones dropped). */
export function mergeIntervals(xs: readonly Interval[]): Array<[number, number]> {
  const s = xs.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  const out: Array<[number, number]> = [];
  for (const [a, b] of s) {
    const last = out[out.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/** Total length of the overlap of `a` with the union `sortedUnion` (sorted, disjoint). */
export function overlapMs(a: Interval, sortedUnion: readonly Interval[]): number {
  let total = 0;
  for (const [s, e] of sortedUnion) {
    if (s >= a[1]) break;
    const lo = Math.max(s, a[0]);
    const hi = Math.min(e, a[1]);
    if (hi > lo) total += hi - lo;
  }
  return total;
}

/** Total overlap of two unions. */
export function unionOverlapMs(xs: readonly Interval[], ys: readonly Interval[]): number {
  return mergeIntervals(xs).reduce((sum, x) => sum + overlapMs(x, ys), 0);
}

/** Is `t` inside one of the sorted, disjoint `union` intervals? (binary search) */
export function inUnion(t: number, union: readonly Interval[]): boolean {
  let lo = 0;
  let hi = union.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [s, e] = union[mid]!;
    if (t < s) hi = mid - 1;
    else if (t >= e) lo = mid + 1;
    else return true;
  }
  return false;
}
