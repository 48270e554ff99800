// The benchmark's origin, on its own thread so that generating and sending bytes does
// not share an event loop with the client being measured.
import { parentPort, workerData } from "node:worker_threads";
import { startOriginServer } from "../../../packages/compliance-tests/dist/origin-server.js";

const origin = await startOriginServer();
const url = origin.publish("/bench", { size: workerData.size, seed: workerData.seed });
parentPort.on("message", async (message) => {
  if (message === "egress") parentPort.postMessage({ egress: origin.bytesServed, connections: origin.connections });
  if (message === "close") {
    await origin.close();
    parentPort.close();
  }
});
parentPort.postMessage({ url });
