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
