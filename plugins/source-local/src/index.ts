/**
 * @packageDocumentation
 * The `local` source plugin of df: a file on this node as a task's content. dfcache
 * import reads the file it is given through it; a daemon may also list it under
 * `sources` to serve `file:///…` URLs, ideally with `roots`.
 *
 * - `stat` opens the file: its size, `supportsRange: true`, an ETag made of inode, size
 *   and mtime, and Last-Modified.
 * - `get` streams the file (or a byte range of it) in `chunkSize` reads, on demand.
 *
 * Errors (DfError): a missing file NOT_FOUND (`file-not-found`); unreadable, or outside
 * `roots`, PERMISSION_DENIED; a directory or special file INVALID_ARGUMENT
 * (`not-a-file`); a URL that is not `file:` or names another host INVALID_ARGUMENT; a
 * range past the end OUT_OF_RANGE; a file whose length differs from `expectedLength`
 * ABORTED (`source-changed`); a file that shrinks mid-read DATA_LOSS; aborts and
 * `cancel()` CANCELLED.
 *
 * Not in a daemon's default `sources`: a seed peer goes back to source when a remote
 * scheduler asks, so serving `file:` to anyone would let any peer read the seed's
 * files. Enable it deliberately:
 *
 * ```yaml
 * sources:
 *   - http
 *   - name: local
 *     options:
 *       roots: [/srv/shared]
 * ```
 */
import { definePlugin } from "@df/interface";
import { LocalSourceClient } from "./client.js";
import { localSourceOptionsSchema, type LocalSourceOptions } from "./options.js";

export { LocalSourceClient, createLocalSource, type LocalGetOptions } from "./client.js";
export { localSourceOptionsSchema, type LocalSourceOptions, type LocalSourceOptionsInput } from "./options.js";
export { pathOfUrl } from "./path.js";

export default definePlugin<"source", LocalSourceOptions>({
  kind: "source",
  name: "local",
  options: localSourceOptionsSchema,
  create: (options) => new LocalSourceClient(options),
});
