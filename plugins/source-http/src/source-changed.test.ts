import { describe, expect, it } from "vitest";
import { expectDfError, readAll, uniquePath, useOrigin } from "./test-support/fixture.js";

const { origin, client } = useOrigin();

describe("a resource that changes while it is fetched", () => {
  it("is ABORTED (source-changed) when a ranged answer shows another total length", async () => {
    const url = origin().publish(uniquePath("moving"), { size: 1000, seed: 1 }, { changeAfter: { requests: 1, content: { size: 1500, seed: 2 } } });
    const first = await client().get({ url, range: { start: 0, length: 100 }, expectedLength: 1000 });
    expect((await readAll(first.body)).length).toBe(100);
    const error = await expectDfError(client().get({ url, range: { start: 100, length: 100 }, expectedLength: 1000 }), "ABORTED", "source-changed");
    expect(error.message).toContain("it is now 1500 bytes, it was 1000");
  });

  it("is ABORTED when a whole-resource answer has another length", async () => {
    const url = origin().publish(uniquePath("moving-whole"), { size: 1000, seed: 3 });
    await expectDfError(client().get({ url, expectedLength: 999 }), "ABORTED", "source-changed");
  });

  it("passes when the length agrees", async () => {
    const url = origin().publish(uniquePath("steady"), { size: 1000, seed: 4 });
    const response = await client().get({ url, range: { start: 900, length: 100 }, expectedLength: 1000 });
    expect((await readAll(response.body)).length).toBe(100);
  });
});
