import { DfError } from "./errors.js";

// Kept free of zod so that light consumers (dfget) can parse units without loading it.
const byteUnits: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  ki: 2 ** 10,
  kib: 2 ** 10,
  mi: 2 ** 20,
  mib: 2 ** 20,
  gi: 2 ** 30,
  gib: 2 ** 30,
  ti: 2 ** 40,
  tib: 2 ** 40,
};

/**
 * Parses a byte size the way Kubernetes and Dragonfly configs write them: `1024Mi`,
 * `20M`, `4KiB`, `1.5Gi`, or a plain number of bytes. Decimal units are powers of ten,
 * `i` units powers of two.
 */
export function parseByteSize(input: string | number): number {
  if (typeof input === "number") {
    if (Number.isFinite(input) && input >= 0) return Math.floor(input);
    throw new DfError("INVALID_ARGUMENT", `invalid byte size ${input}: expected a non-negative number`);
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(input);
  const unit = match?.[2]?.toLowerCase();
  const factor = unit === undefined ? undefined : byteUnits[unit];
  if (!match || factor === undefined) {
    throw new DfError(
      "INVALID_ARGUMENT",
      `invalid byte size "${input}": use a number with an optional unit (B, K, M, G, T, Ki, Mi, Gi, Ti), e.g. 1024Mi or 20M`,
    );
  }
  return Math.floor(Number(match[1]) * factor);
}

const durationUnits: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** Parses a duration in milliseconds: `500ms`, `30s`, `5m`, `1h30m`, `30d`, or a number of ms. */
export function parseDuration(input: string | number): number {
  if (typeof input === "number") {
    if (Number.isFinite(input) && input >= 0) return input;
    throw new DfError("INVALID_ARGUMENT", `invalid duration ${input}: expected a non-negative number of milliseconds`);
  }
  const text = input.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let consumed = 0;
  for (let match = part.exec(text); match; match = part.exec(text)) {
    total += Number(match[1]) * durationUnits[match[2]!]!;
    consumed = part.lastIndex;
  }
  if (consumed === 0 || consumed !== text.length) {
    throw new DfError("INVALID_ARGUMENT", `invalid duration "${input}": use e.g. 500ms, 30s, 5m, 1h30m or 30d`);
  }
  return total;
}

/**
 * The longest delay a Node timer takes: 2^31 − 1 ms (about 24.8 days). A longer one is
 * silently clamped to 1 ms, so `announceInterval: 30d` would fire a thousand times a
 * second. Every duration that ends up in a timer must stay at or below it.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * `ms` if a timer can wait that long, else INVALID_ARGUMENT naming `what` (a flag or
 * field): for durations given on a command line or in a request.
 */
export function timerDuration(ms: number, what: string): number {
  if (ms > MAX_TIMER_MS) {
    throw new DfError("INVALID_ARGUMENT", `${what} must be at most 24.8 days (2^31 − 1 ms), got ${formatDuration(ms)}; leave it out for no limit`, {
      reason: "duration-out-of-range",
      details: { what, ms },
    });
  }
  return ms;
}

/** Writes milliseconds back the way config files write them: `30d`, `1h30m`, `500ms`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms === 0) return "0s";
  const units: Array<[string, number]> = [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
    ["ms", 1],
  ];
  let rest = Math.round(ms);
  let out = "";
  for (const [unit, size] of units) {
    const count = Math.floor(rest / size);
    if (count > 0) {
      out += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return out || `${ms}ms`;
}

/** Writes bytes back as a config would: `1Gi`, `512Ki`, `1500` (the largest binary unit that divides it). */
export function formatByteSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes <= 0) return String(bytes);
  for (const [unit, size] of [
    ["Ti", 2 ** 40],
    ["Gi", 2 ** 30],
    ["Mi", 2 ** 20],
    ["Ki", 2 ** 10],
  ] as const) {
    if (bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}
