import type { TaskInfo } from "../resource/task.js";
import type { DownloadRequest } from "./types.js";

/** What a task records of the download that created it. */
export function taskInfoFor(download: DownloadRequest, backToSourceLimit: number): TaskInfo {
  return {
    url: download.url,
    type: download.type,
    ...(download.tag ? { tag: download.tag } : {}),
    ...(download.application ? { application: download.application } : {}),
    filteredQueryParams: download.filteredQueryParams,
    header: download.header,
    backToSourceLimit,
  };
}
