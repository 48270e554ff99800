/**
 * Trailer keys that carry a DfError across the wire. The gRPC status code alone would
 * do for the code, but the reason and details would be lost, and several callers branch
 * on the reason. Details are JSON in a `-bin` key because JSON may hold any Unicode and
 * plain gRPC metadata values must be printable ASCII. No grpc-js here: @df/rpc/lite
 * reads the same trailers.
 */
export const ERROR_METADATA = {
  code: "df-code",
  reason: "df-reason",
  details: "df-details-bin",
} as const;

/** The details object of a `df-details-bin` trailer (its JSON text); undefined when it is not an object. */
export function parseErrorDetails(json: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(json);
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
