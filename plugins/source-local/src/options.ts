import { z } from "zod";

/** Options of the `local` source plugin; every field has a default. */
export const localSourceOptionsSchema = z
  .strictObject({
    /**
     * Folders whose files may be served; a path that resolves (through `..` or symbolic
     * links) anywhere else is PERMISSION_DENIED. Empty means any file the process can
     * read, which is only safe where no remote party chooses the path (dfcache import).
     */
    roots: z.array(z.string().min(1)).default([]),
    /** Bytes read per chunk of a body: bounds the memory a stalled reader holds. */
    chunkSize: z.number().int().min(4096).max(64 * 1024 * 1024).default(1024 * 1024),
  })
  .prefault({});

export type LocalSourceOptions = z.output<typeof localSourceOptionsSchema>;
export type LocalSourceOptionsInput = z.input<typeof localSourceOptionsSchema>;
