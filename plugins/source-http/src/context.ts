import type { Logger } from "@df/interface";
import type { ExchangeSettings } from "./exchange.js";

/** What stat and get share from the client that runs them. */
export interface ClientContext extends ExchangeSettings {
  readonly statRetries: number;
  readonly logger: Logger;
  readonly schemes: readonly string[];
}
