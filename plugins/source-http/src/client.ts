import {
  type AbortOptions,
  DfError,
  type Logger,
  noopLogger,
  type SourceClient,
  type SourceGetRequest,
  type SourceRequest,
  type SourceResponse,
  type SourceStat,
  type SourceValidators,
  type SourceValidatorsRequest,
} from "@df/interface";
import type { Agent } from "undici";
import { createAgent } from "./agent.js";
import type { ClientContext } from "./context.js";
import { getResource } from "./get.js";
import { type HttpSourceOptions, type HttpSourceOptionsInput, httpSourceOptionsSchema } from "./options.js";
import { statResource } from "./stat.js";
import { resourceValidators } from "./validators.js";

const SCHEMES = ["http", "https"] as const;

/** The `http` source: HTTP/1.1 origins over one pooled undici Agent. */
export class HttpSourceClient implements SourceClient {
  readonly name = "http";
  readonly schemes: readonly string[] = SCHEMES;
  readonly options: Readonly<HttpSourceOptions>;
  readonly #agent: Agent;
  readonly #context: ClientContext;
  #closing: Promise<void> | undefined;

  constructor(options: HttpSourceOptions, logger: Logger = noopLogger) {
    this.options = options;
    this.#agent = createAgent(options);
    this.#context = {
      dispatcher: this.#agent,
      userAgent: options.userAgent,
      maxRedirects: options.maxRedirects,
      statRetries: options.statRetries,
      logger,
      schemes: this.schemes,
    };
  }

  async stat(request: SourceRequest, options: AbortOptions = {}): Promise<SourceStat> {
    this.#checkOpen();
    return statResource(this.#context, request, options);
  }

  async get(request: SourceGetRequest, options: AbortOptions = {}): Promise<SourceResponse> {
    this.#checkOpen();
    return getResource(this.#context, request, options);
  }

  async validators(request: SourceValidatorsRequest, options: AbortOptions = {}): Promise<SourceValidators> {
    this.#checkOpen();
    return resourceValidators(this.#context, request, options);
  }

  /** Destroys the agent: open connections close and requests still running fail with CANCELLED. */
  close(): Promise<void> {
    this.#closing ??= this.#agent.destroy().catch(() => undefined);
    return this.#closing;
  }

  #checkOpen(): void {
    if (this.#closing) {
      throw new DfError("FAILED_PRECONDITION", "the http source client is closed", { reason: "closed" });
    }
  }
}

/** Makes a client from options as written in config; defaults fill what is missing. */
export function createHttpSource(options: HttpSourceOptionsInput = {}, logger?: Logger): HttpSourceClient {
  const parsed = httpSourceOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(options)"}: ${issue.message}`);
    throw new DfError("INVALID_ARGUMENT", `invalid http source options: ${issues.join("; ")}`, {
      reason: "invalid-plugin-options",
      details: { issues },
    });
  }
  return new HttpSourceClient(parsed.data, logger);
}
