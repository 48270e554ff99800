import { DfError, isDfError, type ErrorCode } from "@df/interface";
import type { SchedulerConfig } from "../config.js";

/** A key of the `limits` config section, or a rule with no knob (the host binding). */
export type LimitKey = keyof SchedulerConfig["limits"] | "hostBinding" | "peerBinding";

/** The reason every limit refusal carries; `details.limit` names the key. */
export const LIMIT_REASON = "scheduler-limit";

/**
 * A refusal by one of the scheduler's limits. The message says which limit and what to
 * change; the key travels in `details.limit` so the service counts it in
 * df_scheduler_limit_rejections_total without parsing messages.
 */
export function limitRefusal(code: ErrorCode, limit: LimitKey, message: string, details: Record<string, unknown> = {}): DfError {
  return new DfError(code, message, { reason: LIMIT_REASON, details: { ...details, limit } });
}

/** The limit `error` was refused by, if it is a limit refusal. */
export function refusedLimit(error: unknown): string | undefined {
  if (!isDfError(error) || error.reason !== LIMIT_REASON) return undefined;
  const limit = error.details?.["limit"];
  return typeof limit === "string" ? limit : undefined;
}
