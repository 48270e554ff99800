import { DigestVerifier } from "@df/piece";
import type { Task as StoredTask } from "@df/storage";

/**
 * Digests a complete task was found to match. Its pieces never change once complete,
 * so a digest checked before serving a local copy need not be computed again when the
 * output is written (reading a large file twice).
 */
const matched = new WeakMap<StoredTask, Set<string>>();

/**
 * Reads the whole task through a verifier for `digest` (`crc32:`, `sha256:`,
 * `sha512:`) and returns it, checked; a match is remembered, and a remembered one is
 * not read again (the verifier is then undefined).
 */
export async function checkTaskDigest(task: StoredTask, digest: string): Promise<{ matches: boolean; verifier?: DigestVerifier }> {
  if (matched.get(task)?.has(digest)) return { matches: true };
  const verifier = new DigestVerifier(digest);
  for await (const chunk of task.read()) verifier.update(chunk);
  const actual = verifier.actual();
  if (actual !== verifier.expected) return { matches: false, verifier };
  let set = matched.get(task);
  if (!set) matched.set(task, (set = new Set()));
  set.add(digest);
  return { matches: true };
}

/** Whether the task's content has `digest`. */
export async function taskMatchesDigest(task: StoredTask, digest: string): Promise<boolean> {
  return (await checkTaskDigest(task, digest)).matches;
}
