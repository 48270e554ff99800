import type { DfError } from "@df/interface/errors";
import { UNREACHABLE } from "@df/rpc/lite";
import { formatTimeout } from "./human.js";

export interface ExplainContext {
  url: string;
  endpoint: string;
  /** --timeout, 0 when none. */
  timeoutMs: number;
  /** The daemon reported the failure (rather than dfget failing to reach it, or fetching directly). */
  viaDaemon: boolean;
}

/**
 * An origin failure as the source client reports it (@df/source-http): its details name
 * the request it made. Forwarded by the daemon with reason and details intact.
 */
function originRequest(error: DfError): { method?: string; url?: string } | undefined {
  const details = error.details;
  if (!details || typeof details.url !== "string") return undefined;
  return { ...(typeof details.method === "string" ? { method: details.method } : {}), url: details.url };
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/**
 * The one line dfget prints for a failure, in the user's terms: what failed, where, and
 * what to do. The RPC detail (method paths, status numbers) stays for --log-level debug.
 */
export function explain(error: DfError, context: ExplainContext): string {
  const daemon = `the dfdaemon at ${context.endpoint}`;
  switch (error.reason) {
    case "call-deadline":
      return context.timeoutMs > 0
        ? `the download did not finish within --timeout ${formatTimeout(context.timeoutMs)}; give it more time with a longer --timeout`
        : `the download took too long and was stopped; try again, or give a --timeout`;
    case "call-cancelled":
      return "interrupted: the download was stopped";
    case "call-no-status":
    case UNREACHABLE:
      return `${daemon} stopped answering during the download (did it restart or crash? its log says why); run dfget again: the pieces it already stored are kept`;
    case "output-closed":
      return "standard output was closed before the download finished";
    default:
      break;
  }
  const origin = originRequest(error);
  if (origin) {
    const host = hostOf(origin.url ?? context.url);
    const cause = error.message.replace(/^[A-Z]+ \S+: /, "");
    switch (error.reason) {
      case "connection": {
        const errno = error.details?.errno;
        if (errno === "ECONNREFUSED") return `the origin ${host} refused the connection; check the URL and that the server is up`;
        if (errno === "ENOTFOUND" || errno === "EAI_AGAIN") return `the origin's host name in ${context.url} could not be resolved; check the URL`;
        return `the origin ${host} could not be reached (${cause}); check the URL and that the server is up`;
      }
      case "connect-timeout":
      case "header-timeout":
      case "body-idle-timeout":
        return `the origin ${host} did not answer in time (${cause}); check that the server is up, or try again later`;
      case "tls":
        return `the origin ${host}: ${cause}`;
      default:
        if (error.reason?.startsWith("http-")) return `the origin ${host} refused the download: ${cause}${hintForStatus(error.reason)}`;
        return `the origin ${host} failed: ${cause}`;
    }
  }
  if (context.viaDaemon && error.code === "INTERNAL") return `${daemon} failed: ${error.message}; its log says more`;
  return error.message;
}

function hintForStatus(reason: string): string {
  const status = Number(reason.slice("http-".length));
  if (status === 404 || status === 410) return "; check the URL";
  if (status === 401 || status === 403) return "; pass the credentials it needs with -H";
  if (status >= 500) return "; the server has a problem, try again later";
  return "";
}
