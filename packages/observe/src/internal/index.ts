export { compareProducts, type Decimal, isPlainDecimal, parseDecimal, percentText } from './decimal.js';
export { MinHeap } from './min-heap.js';
export { parseOptions } from './options.js';
export { RecencyMap } from './recency-map.js';
export { defaultOnError, safeReport } from './report-error.js';
export { SlidingCounter } from './sliding-counter.js';
export { type Stamped, StampedRecencyMap } from './stamped-recency-map.js';
export { isValidTimeZone, mod, ZonedCalendar, type ZonedDay } from './zoned-calendar.js';
