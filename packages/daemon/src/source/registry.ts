import { DfError, closestMatch, type Logger, type SourceClient, type SourceRegistry } from "@df/interface";
import { resolvePlugins, type BuiltinPlugins } from "@df/service-kit";

/** Source plugins shipped with df, by the names config uses. */
export const BUILTIN_SOURCES: BuiltinPlugins<"source"> = {
  http: () => import("@df/source-http"),
  // Not in the default `sources`: a seed would read its own files for any peer that
  // asks. dfcache import uses it directly, whatever the config says.
  local: () => import("@df/source-local"),
};

/**
 * Source clients by URL scheme. The first plugin in config that claims a scheme serves
 * it, so a third-party plugin listed first can take over `https` from the built-in one.
 */
export class SchemeSourceRegistry implements SourceRegistry {
  readonly #byScheme = new Map<string, SourceClient>();
  readonly #clients: readonly SourceClient[];

  constructor(clients: readonly SourceClient[]) {
    this.#clients = clients;
    for (const client of clients) {
      for (const scheme of client.schemes) {
        const key = scheme.toLowerCase().replace(/:$/, "");
        if (!this.#byScheme.has(key)) this.#byScheme.set(key, client);
      }
    }
  }

  /** Resolves every entry of the `sources` config key into a registry. */
  static async fromConfig(
    entries: readonly unknown[],
    options: { logger: Logger; baseDir?: string; builtins?: BuiltinPlugins<"source"> },
  ): Promise<SchemeSourceRegistry> {
    const clients = await resolvePlugins(entries, {
      kind: "source",
      key: "sources",
      builtins: options.builtins ?? BUILTIN_SOURCES,
      logger: options.logger,
      ...(options.baseDir ? { baseDir: options.baseDir } : {}),
    });
    return new SchemeSourceRegistry(clients);
  }

  forUrl(url: string): SourceClient {
    let scheme: string;
    try {
      scheme = new URL(url).protocol.replace(/:$/, "").toLowerCase();
    } catch (error) {
      throw new DfError("INVALID_ARGUMENT", `"${url}" is not a valid URL; give an absolute URL such as https://example.com/file`, {
        cause: error,
        reason: "invalid-url",
      });
    }
    const client = this.#byScheme.get(scheme);
    if (client) return client;
    const known = this.schemes();
    const hint = closestMatch(scheme, known);
    throw new DfError(
      "INVALID_ARGUMENT",
      `no source plugin serves "${scheme}:" URLs${hint ? ` (did you mean ${hint}:?)` : ""}; configured schemes: ${known.join(", ") || "none"}. Add a source plugin for it under "sources" in the daemon config`,
      { reason: "no-source-for-scheme", details: { scheme, known } },
    );
  }

  schemes(): readonly string[] {
    return [...this.#byScheme.keys()];
  }

  /** Closes every client (their connection pools). */
  async close(): Promise<void> {
    await Promise.allSettled(this.#clients.map(async (client) => client.close?.()));
  }
}
