/**
 * Preload for end-to-end tests (`NODE_OPTIONS=--import=<this file>`): the process's wall
 * clock is off by CANH_TEST_CLOCK_OFFSET_MS (signed ms), as on an office PC whose CMOS
 * battery is flat. Date.now() and `new Date()` are shifted; the monotonic clock is not,
 * exactly as a wrong wall clock leaves the kernel's monotonic time alone. (libfaketime does
 * the same from outside; this needs no package.)
 */
const offset = Number(process.env.CANH_TEST_CLOCK_OFFSET_MS ?? '0');
if (Number.isFinite(offset) && offset !== 0) {
  const RealDate = Date;
  class SkewedDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(RealDate.now() + offset);
      else super(...args);
    }
    static now() {
      return RealDate.now() + offset;
    }
  }
  globalThis.Date = SkewedDate;
}
