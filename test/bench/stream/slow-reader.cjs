// Reads standard input at no more than argv[2] bytes per second, as a slow `tar` or
// upload would, and prints {"bytes":…,"sha256":"…"} at the end.
"use strict";
const { createHash } = require("node:crypto");
const rate = Number(process.argv[2]);
const hash = createHash("sha256");
const started = Date.now();
let bytes = 0;
process.stdin.on("data", (chunk) => {
  hash.update(chunk);
  bytes += chunk.length;
  const wait = started + (bytes / rate) * 1000 - Date.now();
  if (wait > 0) {
    process.stdin.pause();
    setTimeout(() => process.stdin.resume(), wait);
  }
});
process.stdin.on("end", () => process.stdout.write(JSON.stringify({ bytes, sha256: hash.digest("hex") })));
