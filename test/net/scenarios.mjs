// The scenarios of issue 12: link rates per host role and when each peer starts.
// Roles: origin (holds the file; also the BitTorrent seeder), sched (df scheduler),
// seed (df seed peer), tracker (opentracker), peer (p1 … pN).
const Mbit = 1e6;

const every = (bps) => () => ({ up: bps, down: bps });

export const SCENARIOS = {
  sym: {
    title: "100 Mbit/s symmetric everywhere",
    links: every(100 * Mbit),
  },
  "fat-origin": {
    title: "origin at 1 Gbit/s, every other host at 100 Mbit/s",
    links: (role) => (role === "origin" ? { up: 1000 * Mbit, down: 1000 * Mbit } : { up: 100 * Mbit, down: 100 * Mbit }),
  },
  stagger: {
    title: "100 Mbit/s symmetric, peers arriving evenly over 10 s",
    links: every(100 * Mbit),
    staggerSeconds: 10,
  },
  "half-seed": {
    // "The seed" is whoever holds the file first: the origin (the direct system's server
    // and the BitTorrent seeder) and df's seed peer, so every system gets the same handicap.
    title: "the seed at half the peers' bandwidth: origin and df seed peer at 50 Mbit/s, peers at 100 Mbit/s",
    links: (role) => (role === "origin" || role === "seed" ? { up: 50 * Mbit, down: 50 * Mbit } : { up: 100 * Mbit, down: 100 * Mbit }),
  },
};

/** What a plain `pnpm bench:net` runs: the symmetric case at every N and size, the others at N = 8. */
export const FULL_MATRIX = [
  ...[4, 8, 16].flatMap((n) => [64, 256].map((sizeMiB) => ({ scenario: "sym", n, sizeMiB }))),
  ...["fat-origin", "stagger", "half-seed"].flatMap((scenario) => [64, 256].map((sizeMiB) => ({ scenario, n: 8, sizeMiB }))),
];

export const SHORT_MATRIX = [{ scenario: "sym", n: 4, sizeMiB: 32 }];

/** Hosts of a testbed for `n` peers: fixed infrastructure addresses, peers from .11 up. */
export function hostsFor(scenario, n, subnet) {
  const links = SCENARIOS[scenario].links;
  const infra = [
    { name: "origin", role: "origin", ip: `${subnet.base}.1` },
    { name: "sched", role: "sched", ip: `${subnet.base}.2` },
    { name: "seed", role: "seed", ip: `${subnet.base}.3` },
    { name: "tracker", role: "tracker", ip: `${subnet.base}.4` },
  ];
  const peers = Array.from({ length: n }, (_, i) => ({ name: `p${i + 1}`, role: "peer", ip: `${subnet.base}.${11 + i}` }));
  return [...infra, ...peers].map((h) => ({ ...h, ...links(h.role) }));
}

/** Start offsets in seconds, one per peer: all 0, or spread evenly from 0 to staggerSeconds. */
export function startOffsets(scenario, n) {
  const spread = SCENARIOS[scenario].staggerSeconds ?? 0;
  return Array.from({ length: n }, (_, i) => (spread && n > 1 ? (spread * i) / (n - 1) : 0));
}
