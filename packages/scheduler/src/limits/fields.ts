import type { common } from "@df/rpc";
import type { SchedulerConfig } from "../config.js";
import { limitRefusal } from "./refusal.js";

type Limits = SchedulerConfig["limits"];

/** UTF-8 bytes of `value`, without encoding it: a string of n UTF-16 units is at most 3n bytes. */
function exceeds(value: string, max: number): boolean {
  if (value.length > max) return true;
  if (value.length * 3 <= max) return false;
  return Buffer.byteLength(value, "utf8") > max;
}

/**
 * Refuses a string field longer than its limit (INVALID_ARGUMENT): the scheduler keeps
 * these for as long as the host, task or peer lives, and hands many of them to children.
 */
export function checkString(value: string | undefined, field: string, limits: Limits, key: "maxStringLength" | "maxUrlLength" = "maxStringLength"): void {
  if (value === undefined) return;
  const max = limits[key];
  if (exceeds(value, max)) {
    throw limitRefusal("INVALID_ARGUMENT", key, `${field} is longer than ${max} bytes (limits.${key}); shorten it, or raise limits.${key} on the scheduler`, {
      field,
      max,
    });
  }
}

/** The host fields the scheduler keeps (the rest of common.Host is dropped on arrival). */
export function checkHost(host: common.Host | undefined, limits: Limits): void {
  if (!host) return;
  checkString(host.id, "host.id", limits);
  checkString(host.hostname, "host.hostname", limits);
  checkString(host.ip, "host.ip", limits);
  checkString(host.idc, "host.idc", limits);
  checkString(host.location, "host.location", limits);
}

/** The download fields a task keeps (URL, tag, application, filters, headers, digest, version). */
export function checkDownload(download: common.Download | undefined, limits: Limits): void {
  if (!download) return;
  checkString(download.url, "download.url", limits, "maxUrlLength");
  checkString(download.tag, "download.tag", limits);
  checkString(download.application, "download.application", limits);
  checkString(download.digest, "download.digest", limits);
  // The origin's validators a peer names the task's version by (ETag, Last-Modified, length).
  checkString(download.version, "download.version", limits);
  const params = download.filteredQueryParams;
  const headers = Object.entries(download.requestHeader);
  checkCount(params.length, "download.filtered_query_params", limits);
  checkCount(headers.length, "download.request_header", limits);
  for (const param of params) checkString(param, "download.filtered_query_params[]", limits);
  let bytes = 0;
  for (const [name, value] of headers) {
    checkString(name, "download.request_header name", limits);
    bytes += Buffer.byteLength(name, "utf8") + Buffer.byteLength(value, "utf8");
  }
  if (bytes > limits.maxHeaderBytes) {
    throw limitRefusal(
      "INVALID_ARGUMENT",
      "maxHeaderBytes",
      `download.request_header holds ${bytes} bytes, more than ${limits.maxHeaderBytes} (limits.maxHeaderBytes); send fewer or shorter headers, or raise limits.maxHeaderBytes on the scheduler`,
      { field: "download.request_header", max: limits.maxHeaderBytes },
    );
  }
}

function checkCount(count: number, field: string, limits: Limits): void {
  if (count > limits.maxListLength) {
    throw limitRefusal(
      "INVALID_ARGUMENT",
      "maxListLength",
      `${field} has ${count} entries, more than ${limits.maxListLength} (limits.maxListLength); send fewer, or raise limits.maxListLength on the scheduler`,
      { field, max: limits.maxListLength },
    );
  }
}
