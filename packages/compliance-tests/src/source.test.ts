import { DfError, type SourceClient, throwIfAborted } from "@df/interface";
import { type ContentSpec, contentChunks, contentSize } from "./content.js";
import { describeSourceCompliance } from "./source.js";

/**
 * The smallest honest source: content kept in a map, served chunk by chunk on demand.
 * Running the suite against it shows the suite asks nothing an HTTP-free source
 * cannot do, and that it passes a correct implementation.
 */
function memorySource(store: Map<string, ContentSpec>): SourceClient {
  const find = (url: string): ContentSpec => {
    const content = store.get(url);
    if (!content) throw new DfError("NOT_FOUND", `${url}: no such resource`);
    return content;
  };
  return {
    name: "memory",
    schemes: ["mem"],
    async stat({ url }, { signal } = {}) {
      throwIfAborted(signal);
      return { contentLength: contentSize(find(url)), supportsRange: true };
    },
    async get({ url, range }, { signal } = {}) {
      throwIfAborted(signal);
      const content = find(url);
      const start = range?.start ?? 0;
      const length = range?.length ?? contentSize(content) - start;
      if (start + length > contentSize(content)) throw new DfError("OUT_OF_RANGE", `${url}: range past the end`);
      let cancelled = false;
      async function* body(): AsyncGenerator<Uint8Array> {
        for (const chunk of contentChunks(content, start, length, 64 * 1024)) {
          await new Promise((resolve) => setImmediate(resolve));
          if (cancelled) return;
          throwIfAborted(signal);
          yield chunk;
        }
      }
      return {
        header: {},
        contentLength: length,
        body: body(),
        cancel: async () => {
          cancelled = true;
        },
      };
    },
  };
}

describeSourceCompliance("reference memory source", async () => {
  const store = new Map<string, ContentSpec>();
  return {
    client: memorySource(store),
    publish: async (path, content) => {
      const url = `mem://store${path}`;
      store.set(url, content);
      return url;
    },
    missing: async (path) => `mem://store${path}`,
    teardown: async () => store.clear(),
  };
});
