// The origin, run inside the origin host's namespace: the test origin of
// @df/compliance-tests (ranges, byte counting) serving the seeded file the testbed also
// wrote to disk (same seed, same bytes). A line "stats" on stdin prints its counters as
// one JSON line, so the runner can read egress without any network path to it.
//
//   node test/net/origin.mjs <host> <port> <path> <size> <seed>
import { createInterface } from "node:readline";
import { startOriginServer } from "@df/compliance-tests";

const [host, port, path, size, seed] = process.argv.slice(2);
const origin = await startOriginServer({ host, port: Number(port) });
origin.publish(path, { seed: Number(seed), size: Number(size) });
console.log(`origin ready: ${origin.url(path)}`);

createInterface({ input: process.stdin }).on("line", (line) => {
  if (line.trim() === "stats") console.log(`stats ${JSON.stringify({ ...origin.stats(path), connections: origin.connections })}`);
});
const stop = () => origin.close().then(() => process.exit(0));
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
