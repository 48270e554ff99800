import { readFile } from "node:fs/promises";
import { DfError } from "@df/interface";

/** The gid of a group given by name (looked up in /etc/group) or as a number. */
export async function groupId(group: string | number, groupFile = "/etc/group"): Promise<number> {
  if (typeof group === "number") return group;
  if (/^\d+$/.test(group)) return Number(group);
  const text = await readFile(groupFile, "utf8").catch(() => "");
  for (const line of text.split("\n")) {
    const [name, , gid] = line.split(":");
    if (name === group && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  throw new DfError("INVALID_ARGUMENT", `download.socketGroup: there is no group "${group}" in ${groupFile}; give an existing group's name or its numeric gid`, {
    reason: "bad-config",
    details: { key: "download.socketGroup", group },
  });
}
