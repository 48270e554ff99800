import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { groupId } from "./group.js";

describe("groupId", () => {
  it("takes a gid as is and looks a name up in the group file, naming the key when it is unknown", async () => {
    const file = path.join(await mkdtemp(path.join(tmpdir(), "df-group-")), "group");
    await writeFile(file, "root:x:0:\ndf-clients:x:1234:alice,bob\nbroken\n");
    expect(await groupId(42, file)).toBe(42);
    expect(await groupId("77", file)).toBe(77);
    expect(await groupId("df-clients", file)).toBe(1234);
    await expect(groupId("nobody-here", file)).rejects.toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringContaining("download.socketGroup") });
  });
});
