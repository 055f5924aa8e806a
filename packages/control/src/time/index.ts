export { CalendarWindow, type WindowBounds } from './calendar-window.js';
export { DURATION_PATTERN, parseDuration } from './duration.js';
export {
  type CalendarUnit,
  calendarBounds,
  canonicalTimeZone,
  instantOfWall,
  localWeekdayHour,
  type WallTime,
  wallTime,
  zoneOffset,
} from './zoned-time.js';
