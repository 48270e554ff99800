/**
 * @packageDocumentation
 * df's command-line clients. `dfget <url> -O <path>` downloads through the local
 * dfdaemon with a progress bar that says where the bytes came from, or straight from the
 * source when no daemon answers (unless `--disable-back-to-source`).
 */
export { main as dfget } from "./dfget/main.js";
export { EXIT, exitCodeFor } from "./exit-codes.js";
