import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { pathToFileURL } from "node:url";
import { contentChunks, contentSize, type ContentSpec } from "@df/compliance-tests";

/** A temporary folder that content is written into as files. */
export interface FileArea {
  dir: string;
  write(relative: string, content: ContentSpec): Promise<string>;
  url(relative: string): string;
  remove(): Promise<void>;
}

export async function fileArea(): Promise<FileArea> {
  const dir = await mkdtemp(path.join(tmpdir(), "df-source-local-"));
  const at = (relative: string) => path.join(dir, relative);
  return {
    dir,
    async write(relative, content) {
      const file = at(relative);
      await mkdir(path.dirname(file), { recursive: true });
      await pipeline(contentChunks(content, 0, contentSize(content)), createWriteStream(file));
      return pathToFileURL(file).href;
    },
    url: (relative) => pathToFileURL(at(relative)).href,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
