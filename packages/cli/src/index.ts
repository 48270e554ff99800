/**
 * @packageDocumentation
 * df's command-line clients. `dfget <url> -O <path>` downloads through the local
 * dfdaemon with a progress bar that says where the bytes came from, or straight from the
 * source when no daemon answers (unless `--disable-back-to-source`). `dfcache` imports
 * a local file into the P2P cache under a cid, and stats, exports or deletes it.
 */
export { main as dfget } from "./dfget/main.js";
export { main as dfcache } from "./dfcache/main.js";
export { cacheTaskId, cacheUrl } from "./dfcache/cache-id.js";
export { EXIT, exitCodeFor } from "./exit-codes.js";
