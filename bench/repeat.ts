/**
 * Robust same-run ratios: both sides measured in alternation (ours, baseline, ours, baseline, ...),
 * the ratio taken per repetition, and its median reported with its min and max, so that one noisy
 * measurement (another job on the cores, a GC pause) can neither pass nor fail a figure.
 * Every ratio of `npm run bench` goes through here; see bench/README.md.
 */

/** At least this many repetitions of each side for a ratio that carries a verdict. */
export const MIN_REPETITIONS = 5;

/** One measurement of a side: a rate, higher is better (tuples/s, events/s, 1/ms...). */
export type Measure = (repetition: number) => number | Promise<number>;

/** Median, min and max of some values, and how many there were. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  count: number;
}

export interface RatioMeasurement {
  /** ours[i] / baseline[i] of each repetition, summarised. */
  ratio: Spread;
  ours: Spread;
  baseline: Spread;
  /** Every sample, in the order taken. */
  samples: { ours: number[]; baseline: number[] };
}

export interface MeasureRatioOptions {
  ours: Measure;
  baseline: Measure;
  repetitions: number;
}

export interface MeasureRatiosOptions<Name extends string> {
  ours: Measure;
  /** Several baselines against the same samples of ours: ours, b1, b2, ours, b1, b2, ... */
  baselines: Readonly<Record<Name, Measure>>;
  repetitions: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError("median of no values");
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function spreadOf(values: readonly number[]): Spread {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), count: values.length };
}

/** Ratios of paired samples: ours[i] / baseline[i]. */
export function pairedRatios(ours: readonly number[], baseline: readonly number[]): number[] {
  if (ours.length !== baseline.length)
    throw new RangeError(`paired ratios need as many samples on each side (${ours.length} vs ${baseline.length})`);
  return ours.map((value, index) => value / baseline[index]!);
}

function checkRepetitions(repetitions: number): void {
  if (!Number.isInteger(repetitions) || repetitions < 1)
    throw new RangeError(`repetitions must be a positive integer, got ${repetitions}`);
}

/** Measures ours and the baseline in turn, `repetitions` times each; the ratio is ours / baseline. */
export async function measureRatio(options: MeasureRatioOptions): Promise<RatioMeasurement> {
  const { baseline } = await measureRatios({
    ours: options.ours,
    baselines: { baseline: options.baseline },
    repetitions: options.repetitions,
  });
  return baseline;
}

/** Measures ours, then each baseline, in turn, `repetitions` times; one ratio per baseline. */
export async function measureRatios<Name extends string>(
  options: MeasureRatiosOptions<Name>,
): Promise<Record<Name, RatioMeasurement>> {
  checkRepetitions(options.repetitions);
  const names = Object.keys(options.baselines) as Name[];
  const ours: number[] = [];
  const baselines = new Map<Name, number[]>(names.map((name) => [name, []]));
  for (let repetition = 0; repetition < options.repetitions; repetition++) {
    ours.push(await options.ours(repetition));
    for (const name of names) baselines.get(name)!.push(await options.baselines[name](repetition));
  }
  const result = {} as Record<Name, RatioMeasurement>;
  for (const name of names) {
    const baseline = baselines.get(name)!;
    result[name] = {
      ratio: spreadOf(pairedRatios(ours, baseline)),
      ours: spreadOf(ours),
      baseline: spreadOf(baseline),
      samples: { ours: [...ours], baseline },
    };
  }
  return result;
}
