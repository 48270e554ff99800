import { gzipSync } from "node:zlib";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestDatabase, PGLITE_TEMPLATE } from "../test-support/databases.js";
import { openDatabase } from "./database.js";
import { readTemplate, unpackDataDir } from "./template.js";

describe("the embedded database template", () => {
  let dir: string;

  beforeAll(async () => {
    // Writes the test template (a migrated empty database) if no test did yet.
    await (await openTestDatabase("pglite")).drop();
    dir = await mkdtemp(join(tmpdir(), "df-template-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("makes a new data dir from the template, already migrated; an existing one opens as it is", async () => {
    const url = `pglite://${join(dir, "db")}`;
    const created = await openDatabase({ url, pgliteTemplate: PGLITE_TEMPLATE });
    try {
      expect(created.applied).toEqual([]);
      await created.db.insertInto("configs").values({ name: "kept", value: "1" }).execute();
    } finally {
      await created.close();
    }
    const reopened = await openDatabase({ url, pgliteTemplate: join(dir, "no-such-template") });
    try {
      expect(reopened.applied).toEqual([]);
      expect(await reopened.db.selectFrom("configs").select("name").execute()).toEqual([{ name: "kept" }]);
      const tables = await sql<{ n: number }>`select count(*)::int as n from pg_tables where schemaname = 'public'`.execute(reopened.db);
      expect(tables.rows[0]!.n).toBeGreaterThan(10);
    } finally {
      await reopened.close();
    }
  });

  it("reads a gzipped template as the plain tarball", async () => {
    const plain = await readFile(PGLITE_TEMPLATE);
    await writeFile(join(dir, "t.tar.gz"), gzipSync(plain));
    expect(Buffer.compare((await readTemplate(join(dir, "t.tar.gz")))!, plain)).toBe(0);
    expect(await readTemplate(join(dir, "missing.tar.gz"))).toBeUndefined();
  });

  it("leaves a folder that holds anything alone, and a broken archive leaves no trace", async () => {
    const tar = (await readTemplate(PGLITE_TEMPLATE))!;
    const used = join(dir, "used");
    await mkdir(used);
    await writeFile(join(used, "mine"), "x");
    expect(await unpackDataDir(tar, used)).toBe(false);
    expect(await readdir(used)).toEqual(["mine"]);

    const broken = join(dir, "broken");
    await mkdir(broken);
    const garbage = Buffer.alloc(4096, 7);
    for (const archive of [tar.subarray(0, tar.length - 2048), garbage]) {
      await expect(unpackDataDir(archive, broken)).rejects.toMatchObject({ code: "INTERNAL", reason: "invalid-template" });
      expect(await readdir(broken)).toEqual([]);
    }
    expect((await readdir(dir)).filter((name) => name.includes(".tmp"))).toEqual([]);
  });
});
