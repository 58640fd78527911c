/**
 * Timer trigger schedules: NCRONTAB with six fields `{second} {minute} {hour} {day} {month} {day-of-week}`
 * (as Azure Functions), or a TimeSpan interval `hh:mm:ss`. Evaluated in UTC.
 */
import { configurationError } from "../../src/errors";

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: string[];
}

const fields: FieldSpec[] = [
  { name: "second", min: 0, max: 59 },
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day", min: 1, max: 31 },
  {
    name: "month",
    min: 1,
    max: 12,
    names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
  },
  { name: "day-of-week", min: 0, max: 6, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] },
];

export interface Schedule {
  /** The first occurrence strictly after `after`. */
  nextAfter(after: Date): Date;
}

function parseValue(text: string, spec: FieldSpec, schedule: string): number {
  const named = spec.names?.indexOf(text.toLowerCase()) ?? -1;
  const value = named >= 0 ? named + spec.min : Number(text);
  if (!Number.isInteger(value) || value < spec.min || value > (spec.name === "day-of-week" ? 7 : spec.max)) {
    throw configurationError(
      `timer schedule "${schedule}": ${spec.name} value "${text}" is not in ${spec.min}-${spec.max}`,
    );
  }
  return spec.name === "day-of-week" && value === 7 ? 0 : value;
}

function parseField(text: string, spec: FieldSpec, schedule: string): Set<number> {
  const values = new Set<number>();
  for (const part of text.split(",")) {
    const [range, stepText] = part.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1)
      throw configurationError(`timer schedule "${schedule}": bad step "${stepText}" in ${spec.name}`);
    let low: number;
    let high: number;
    if (range === "*") {
      low = spec.min;
      high = spec.max;
    } else if (range.includes("-")) {
      const [a, b] = range.split("-");
      low = parseValue(a, spec, schedule);
      high = parseValue(b, spec, schedule);
    } else {
      low = parseValue(range, spec, schedule);
      high = stepText === undefined ? low : spec.max;
    }
    for (let v = low; v <= high; v += step) values.add(v);
  }
  return values;
}

/** Parses an NCRONTAB (6 fields) or TimeSpan (`hh:mm:ss`) schedule; throws configurationError naming the problem. */
export function parseSchedule(schedule: string): Schedule {
  const timeSpan = /^(\d{1,2}):(\d{2}):(\d{2})$/.exec(schedule.trim());
  if (timeSpan) {
    const periodInMs = ((Number(timeSpan[1]) * 60 + Number(timeSpan[2])) * 60 + Number(timeSpan[3])) * 1000;
    if (periodInMs <= 0) throw configurationError(`timer schedule "${schedule}": the interval must be positive`);
    return { nextAfter: (after) => new Date(after.getTime() + periodInMs) };
  }
  const parts = schedule.trim().split(/\s+/);
  if (parts.length !== 6) {
    throw configurationError(
      `timer schedule "${schedule}": expected 6 NCRONTAB fields {second} {minute} {hour} {day} {month} {day-of-week}`,
    );
  }
  const [seconds, minutes, hours, days, months, weekdays] = parts.map((p, i) => parseField(p, fields[i], schedule));
  const dayIsRestricted = parts[3] !== "*";
  const weekdayIsRestricted = parts[5] !== "*";
  const dayMatches = (t: Date): boolean => {
    const byDay = days.has(t.getUTCDate());
    const byWeekday = weekdays.has(t.getUTCDay());
    // Cron rule: when both are restricted, either may match.
    if (dayIsRestricted && weekdayIsRestricted) return byDay || byWeekday;
    return byDay && byWeekday;
  };
  return {
    nextAfter(after: Date): Date {
      const t = new Date(Math.floor(after.getTime() / 1000) * 1000 + 1000);
      const limit = after.getTime() + 5 * 366 * 24 * 3600 * 1000;
      while (t.getTime() <= limit) {
        if (!months.has(t.getUTCMonth() + 1)) {
          t.setUTCMonth(t.getUTCMonth() + 1, 1);
          t.setUTCHours(0, 0, 0);
        } else if (!dayMatches(t)) {
          t.setUTCDate(t.getUTCDate() + 1);
          t.setUTCHours(0, 0, 0);
        } else if (!hours.has(t.getUTCHours())) {
          t.setUTCHours(t.getUTCHours() + 1, 0, 0);
        } else if (!minutes.has(t.getUTCMinutes())) {
          t.setUTCMinutes(t.getUTCMinutes() + 1, 0);
        } else if (!seconds.has(t.getUTCSeconds())) {
          t.setUTCSeconds(t.getUTCSeconds() + 1);
        } else {
          return t;
        }
      }
      throw configurationError(
        `timer schedule "${schedule}" has no occurrence within five years of ${after.toISOString()}`,
      );
    },
  };
}
