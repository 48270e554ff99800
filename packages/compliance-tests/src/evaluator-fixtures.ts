import type { EvaluationContext, HostView, PeerState, PeerView } from "@df/interface";

/** Every peer state the scheduler tracks, so fixtures cover the whole state machine. */
export const PEER_STATES: readonly PeerState[] = [
  "pending",
  "received-empty",
  "received-tiny",
  "received-small",
  "received-normal",
  "running",
  "back-to-source",
  "succeeded",
  "failed",
  "left",
];

/**
 * States in which a parent can never serve: an evaluator that filters at all must call
 * such a parent bad (the evaluator contract the suite checks).
 */
export const UNSERVABLE_STATES: readonly PeerState[] = ["pending", "failed", "left"];

/** An idle, healthy normal host with known limits; override what a case needs. */
export function makeHost(overrides: Partial<HostView> = {}): HostView {
  return {
    id: "host",
    type: "normal",
    maxTxBandwidth: 10_000_000_000,
    txBandwidth: 0,
    concurrentUploadLimit: 200,
    concurrentUploadCount: 0,
    concurrentUploadPieceCount: 0,
    uploadCount: 0,
    uploadFailedCount: 0,
    uploadContentLength: 0,
    ...overrides,
  };
}

export type PeerOverrides = Partial<Omit<PeerView, "host">> & { host?: Partial<HostView> };

/** A running peer on `makeHost()` with no history; `host` overrides merge into the host. */
export function makePeer(overrides: PeerOverrides = {}): PeerView {
  const { host, ...peer } = overrides;
  return {
    id: "peer",
    state: "running",
    finishedPieceCount: 0,
    pieceCosts: [],
    ...peer,
    host: makeHost(host),
  };
}

/** Freezes a value and everything reachable from it, so a mutating evaluator throws. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key]);
  }
  return value;
}

export interface EvaluatorFixtures {
  readonly parents: readonly PeerView[];
  readonly children: readonly PeerView[];
  readonly contexts: readonly EvaluationContext[];
}

const idcs = [undefined, "", "idc-a", "IDC-A", "idc-b"];
const locations = [undefined, "", "cn|zj|hz|az1|rack1", "CN|ZJ|HZ", "cn|zj|hz|az1|rack1|row|slot", "us|ca", "|"];

// Loads from "nothing known" to values near the float limits: every term of a load
// formula must survive 0/0, over-limit counts and products that overflow.
const loads: readonly Partial<HostView>[] = [
  { maxTxBandwidth: 0, txBandwidth: 0, concurrentUploadLimit: 0, concurrentUploadCount: 0 },
  { maxTxBandwidth: 10e9, txBandwidth: 0, concurrentUploadLimit: 200, concurrentUploadCount: 0 },
  { maxTxBandwidth: 1e9, txBandwidth: 8e8, concurrentUploadLimit: 200, concurrentUploadCount: 150, uploadCount: 1000, uploadFailedCount: 10 },
  { maxTxBandwidth: 1e9, txBandwidth: 5e9, concurrentUploadLimit: 10, concurrentUploadCount: 50, uploadCount: 5, uploadFailedCount: 9 },
  { maxTxBandwidth: 0, txBandwidth: 3e8, concurrentUploadLimit: 1, concurrentUploadCount: 1, uploadCount: 1, uploadFailedCount: 1 },
  {
    maxTxBandwidth: Number.MAX_VALUE,
    txBandwidth: 1e300,
    concurrentUploadLimit: Number.MAX_SAFE_INTEGER,
    concurrentUploadCount: 1e15,
    concurrentUploadPieceCount: Number.MAX_SAFE_INTEGER,
    uploadCount: Number.MAX_SAFE_INTEGER,
    uploadFailedCount: 1e15,
    uploadContentLength: Number.MAX_VALUE,
  },
];

const finishedCounts = [0, 1, 7, 1000, Number.MAX_SAFE_INTEGER];

function steady(count: number, base: number): number[] {
  // Deterministic jitter: tests must not depend on Math.random.
  return Array.from({ length: count }, (_, i) => base + ((i * 37) % 11));
}

// A function, not a constant: each fixture set gets its own arrays to freeze or not.
const costPatterns = (): number[][] => [
  [],
  [40],
  [0, 0, 0, 0],
  steady(30, 100),
  [...steady(40, 100), 5000],
  [...steady(5, 50), 2000],
  steady(2000, 30),
  [1e300, 1e300, Number.MAX_VALUE],
];

/**
 * A broad, deterministic, deep-frozen set of parents, children and contexts: every host
 * type and peer state, matching and mismatching IDCs and locations (case, depth, empty),
 * loads from unknown to overflowing, empty to full cost histories, and totals from 0
 * (length unknown) to the largest safe integer. Each call builds a fresh copy;
 * `freeze: false` leaves it writable, to detect mutation by comparison instead.
 */
export function evaluatorFixtures(options: { freeze?: boolean } = {}): EvaluatorFixtures {
  const costs = costPatterns();
  const parents: PeerView[] = [];
  let n = 0;
  for (const type of ["normal", "seed"] as const) {
    for (const idc of idcs) {
      for (const location of locations) {
        for (const load of loads) {
          const i = n++;
          parents.push(
            makePeer({
              id: `parent-${i}`,
              state: PEER_STATES[i % PEER_STATES.length]!,
              // Different strides, so each state meets every progress and every history.
              finishedPieceCount: finishedCounts[Math.floor(i / PEER_STATES.length) % finishedCounts.length]!,
              pieceCosts: [...costs[Math.floor(i / 3) % costs.length]!],
              host: { id: `parent-host-${i}`, type, ...(idc === undefined ? {} : { idc }), ...(location === undefined ? {} : { location }), ...load },
            }),
          );
        }
      }
    }
  }
  const children = idcs.flatMap((idc, i) =>
    locations.slice(0, 3).map((location, j) =>
      makePeer({
        id: `child-${i}-${j}`,
        state: (["received-normal", "running", "back-to-source"] as const)[j]!,
        finishedPieceCount: finishedCounts[(i + j) % finishedCounts.length]!,
        host: { id: `child-host-${i}-${j}`, ...(idc === undefined ? {} : { idc }), ...(location === undefined ? {} : { location }) },
      }),
    ),
  );
  const contexts = [0, 1, 10, 1000, Number.MAX_SAFE_INTEGER].map((totalPieceCount) => ({ totalPieceCount }));
  const fixtures = { parents, children, contexts };
  return options.freeze === false ? fixtures : deepFreeze(fixtures);
}
