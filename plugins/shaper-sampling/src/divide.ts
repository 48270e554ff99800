/** One task as the sampling shaper sees it at a tick. */
export interface TaskSample {
  /** Its limit during the interval, bytes per second. */
  readonly rate: number;
  readonly pieceLength: number;
  /** Bytes per second it used during the interval. */
  readonly used: number;
  /** Added during the interval: it has no full sample yet. */
  readonly fresh: boolean;
  /** Bytes it still has to download (Infinity when the length is unknown). */
  readonly remaining: number;
  /** Its limiter held pieces back for most of the interval: it wants more than it got. */
  readonly saturated: boolean;
}

/** A task's limit and its piece length, for admitting and releasing tasks. */
export interface TaskRate {
  readonly rate: number;
  readonly pieceLength: number;
}

/**
 * The per-second re-division (reference §5, `updateLimit`). Each task is guaranteed one
 * piece per second; the rest of the total is shared in proportion to what each used
 * beyond that piece, a task's use counted no higher than what it still has to download.
 * A task added during the interval counts as using at least its limit, so it is not
 * starved before it has a sample. When no task used more than its piece, the rest is
 * shared equally (upstream divided 0 by 0 here).
 *
 * One change from upstream: tasks that were held back by their limit (saturated) and
 * still have more than that limit to go split their combined share equally. Their true
 * demand is unknown; upstream kept them in the ratio of one second's noisy usage, which
 * with pieces of several MiB froze unfair shares for the rest of the download.
 */
export function divideTotal(total: number, samples: readonly TaskSample[]): number[] {
  const count = samples.length;
  if (count === 0) return [];
  const extra = samples.map((sample) => {
    const used = sample.fresh ? Math.max(sample.used, sample.rate) : sample.used;
    return Math.max(Math.min(used, sample.remaining) - sample.pieceLength, 0);
  });
  const totalExtra = sum(extra);
  const rest = Math.max(total - sum(samples.map((sample) => sample.pieceLength)), 0);
  const rates = samples.map((sample, i) => sample.pieceLength + (totalExtra > 0 ? (rest * (extra[i] as number)) / totalExtra : rest / count));

  const pool = samples.flatMap((sample, i) => ((sample.saturated || sample.fresh) && sample.remaining > (rates[i] as number) ? [i] : []));
  if (pool.length > 1) {
    const above = sum(pool.map((i) => (rates[i] as number) - (samples[i] as TaskSample).pieceLength)) / pool.length;
    for (const i of pool) rates[i] = (samples[i] as TaskSample).pieceLength + above;
  }
  return rates;
}

/**
 * A new task's limit and everyone's after it joins (upstream `AddTask`): it starts at
 * the total divided by the tasks already running (the average of theirs, when they
 * share the total), then all are scaled to fit the total, none below one piece per second.
 * Returns the new limits of `running` followed by the new task's.
 */
export function admitTask(total: number, running: readonly TaskRate[], pieceLength: number): number[] {
  const initial = Math.max(total / Math.max(running.length, 1), pieceLength);
  const all: TaskRate[] = [...running, { rate: initial, pieceLength }];
  const ratio = total / sum(all.map((task) => task.rate));
  return all.map((task) => Math.max(task.rate * ratio, task.pieceLength));
}

/**
 * The limits of the tasks left after one finishes (upstream `RemoveTask`): its share goes
 * back to them in proportion to their limits, so they again fill the total. Never
 * shrinks anyone, and never divides by zero.
 */
export function releaseTask(total: number, remaining: readonly TaskRate[]): number[] {
  const current = sum(remaining.map((task) => task.rate));
  const ratio = current > 0 && Number.isFinite(current) ? Math.max(total / current, 1) : 1;
  return remaining.map((task) => task.rate * ratio);
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}
