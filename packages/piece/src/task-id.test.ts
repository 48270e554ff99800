import { describe, expect, it } from "vitest";
import { PersistentCacheTaskIdBuilder, taskId, taskIdFromContent, type TaskType } from "./task-id.js";
import { thrown } from "./test-support/errors.js";

const url = "https://example.com";

describe("taskId: Dragonfly v2 test vectors (reference §2.1)", () => {
  it("url + tag + application", () => {
    expect(taskId({ url, tag: "foo", application: "bar", filteredQueryParams: [] })).toBe(
      "06408fbf247ddaca478f8cb9565fe5591c28efd0994b8fea80a6a87d3203c5ca",
    );
  });

  it("url + tag", () => {
    expect(taskId({ url, tag: "foo", filteredQueryParams: [] })).toBe(
      "3c3f230ef9f191dd2821510346a7bc138e4894bee9aee184ba250a3040701d2a",
    );
  });

  it("url + application", () => {
    expect(taskId({ url, application: "bar", filteredQueryParams: [] })).toBe(
      "c9f9261b7305c24371244f9f149f5d4589ed601348fdf22d7f6f4b10658fdba2",
    );
  });

  it("url + tag + application + revision + piece length", () => {
    expect(
      taskId({ url, tag: "foo", application: "bar", revision: "v1.0", pieceLength: 1024, filteredQueryParams: [] }),
    ).toBe("5844f27a257287e9b734256bb25603d8005422ced8c0377f15063ec11963b25f");
  });

  it("gives the same IDs with the default filter list, which canonicalises the URL", () => {
    expect(taskId({ url, tag: "foo", application: "bar" })).toBe(
      "06408fbf247ddaca478f8cb9565fe5591c28efd0994b8fea80a6a87d3203c5ca",
    );
    expect(taskId({ url: "https://example.com/", tag: "foo" })).toBe(
      "3c3f230ef9f191dd2821510346a7bc138e4894bee9aee184ba250a3040701d2a",
    );
  });
});

describe("taskId: the origin's version", () => {
  it("is hashed after the upstream parts (and the scope), so an empty one keeps the upstream ID", () => {
    const upstream = "06408fbf247ddaca478f8cb9565fe5591c28efd0994b8fea80a6a87d3203c5ca";
    expect(taskId({ url, tag: "foo", application: "bar", version: "" })).toBe(upstream);
    const v1 = taskId({ url, tag: "foo", application: "bar", version: '{"etag":"1"}' });
    expect(v1).toMatch(/^[0-9a-f]{64}$/);
    expect(v1).not.toBe(upstream);
    expect(taskId({ url, tag: "foo", application: "bar", version: '{"etag":"2"}' })).not.toBe(v1);
    expect(taskId({ url, tag: "foo", application: "bar", scope: "s", version: '{"etag":"1"}' })).not.toBe(v1);
  });
});

describe("taskId: further vectors from the current Rust client", () => {
  it.each<[string, Parameters<typeof taskId>[0], string]>([
    ["piece length only", { url, pieceLength: 1024, filteredQueryParams: [] }, "9f7c9aafbc6f30f8f41a96ca77eeae80c5b60964b3034b0ee43ccf7b2f9e52b8"],
    ["revision only", { url, revision: "v1.0", filteredQueryParams: [] }, "b171331534b80e0bf91da38ebbfcdbf4d177898f4b9beac44f14733e3f004d4e"],
    [
      "every query parameter filtered",
      { url: "https://example.com?foo=foo&bar=bar", filteredQueryParams: ["foo", "bar"] },
      "457b4328cde278e422c9e243f7bfd1e97f511fec43a80f535cf6b0ef6b086776",
    ],
    [
      "remaining parameters sorted",
      { url: "https://example.com/file.txt?z=9&b=2&a=1", tag: "foo", application: "bar", filteredQueryParams: ["z"] },
      "8b3f6e9b9b8fe20903bced565cfd1d0aaef354a4c17573f0c2c1979210443f9d",
    ],
    [
      "repeated keys keep their order",
      { url: "https://example.com/file.txt?b=2&a=1&b=1", filteredQueryParams: ["c"] },
      "7c8801d0596be5e8f9449d5c4af23866c72fe5205119c0e5912981f3b16a37aa",
    ],
    [
      "Go query escaping",
      { url: "https://example.com/file.txt?k=a b&m=x*y&n=c~d", pieceLength: 1024, filteredQueryParams: ["none"] },
      "6196a6846023f6d3c1e4d30f6c86f3d4186e4c664a33e5692b0e04e49b26a9af",
    ],
    [
      "query dropped",
      { url: "https://example.com/file.txt?a=1&b=2", tag: "foo", filteredQueryParams: ["a", "b"] },
      "c8f4b41117329d54af920010394f6f607bac707e933ab2f18d372e3dd4c7fcb3",
    ],
    [
      "empty filter list hashes the URL verbatim",
      { url: "https://example.com/file.txt?b=2&a=1", filteredQueryParams: [] },
      "980ee327518ccc5a7c30703e1a2232e8ba9047b39431f940636c85b6146f8b9a",
    ],
  ])("%s", (_name, input, expected) => {
    expect(taskId(input)).toBe(expected);
  });
});

describe("taskId: properties", () => {
  it("is 64 lowercase hex digits", () => {
    expect(taskId({ url: "https://h/a" })).toMatch(/^[0-9a-f]{64}$/);
  });

  it("ignores presigned-URL signatures by default", () => {
    expect(taskId({ url: "https://b.s3.amazonaws.com/k?X-Amz-Signature=1&X-Amz-Date=2" })).toBe(
      taskId({ url: "https://b.s3.amazonaws.com/k?X-Amz-Signature=3" }),
    );
  });

  it("changes with each part and with the task type", () => {
    const base = taskId({ url: "https://h/a" });
    const variants = [
      taskId({ url: "https://h/b" }),
      taskId({ url: "https://h/a", tag: "t" }),
      taskId({ url: "https://h/a", application: "app" }),
      taskId({ url: "https://h/a", revision: "rev" }),
      taskId({ url: "https://h/a", pieceLength: 4194304 }),
      taskId({ url: "https://h/a", type: "PERSISTENT_CACHE" }),
      taskId({ url: "https://h/a", type: "PERSISTENT" }),
    ];
    expect(new Set([base, ...variants]).size).toBe(variants.length + 1);
    expect(taskId({ url: "https://h/a", type: "STANDARD" })).toBe(base);
  });

  it("joins parts without separators, exactly as upstream (so tag x equals application x)", () => {
    expect(taskId({ url: "https://h/a", tag: "x" })).toBe(taskId({ url: "https://h/a", application: "x" }));
    expect(taskId({ url: "https://h/a", tag: "ab" })).toBe(taskId({ url: "https://h/a", tag: "a", application: "b" }));
  });

  it("rejects a malformed URL, a bad piece length and an unknown type", () => {
    expect(thrown(() => taskId({ url: "nope" })).code).toBe("INVALID_ARGUMENT");
    expect(thrown(() => taskId({ url, pieceLength: -1 })).code).toBe("INVALID_ARGUMENT");
    expect(thrown(() => taskId({ url, pieceLength: 1.5 })).code).toBe("INVALID_ARGUMENT");
    const error = thrown(() => taskId({ url, type: "CACHE" as TaskType }));
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toContain("CACHE");
  });
});

describe("taskIdFromContent", () => {
  it("is the SHA-256 of the string (Rust client vector)", () => {
    expect(taskIdFromContent("This is a test file")).toBe(
      "e2d0fe1585a63ec6009c8016ff8dda8b17719a637405a4e23c0ff81339148249",
    );
  });
});

describe("PersistentCacheTaskIdBuilder (Rust client vectors)", () => {
  const file = new TextEncoder().encode("This is a test file");

  it.each([
    [{ tag: "tag1", application: "app1", pieceLength: 1024 }, "7160a071a9acea5ac341e770c14d0211c38a4b15b3bbe2c5f848a706fd47419e"],
    [{ application: "app1" }, "0d0f8536f51227fda07141308f5ae8149b561b51b61c6517125f25dfa27acf5b"],
    [{ tag: "tag1" }, "a98b76813681e30cf83733fe055792b86393bba6f18e3d89fd8c18253922d992"],
    [{ pieceLength: 1024 }, "e894374a39e39cfa78c409cac02f2cdbb5605a24f5ff55c7bc2b624877556c03"],
  ])("%j", (options, expected) => {
    const builder = new PersistentCacheTaskIdBuilder();
    builder.update(file.subarray(0, 7)).update(file.subarray(7));
    expect(builder.finish(options)).toBe(expected);
  });

  it("can be finished only once", () => {
    const builder = new PersistentCacheTaskIdBuilder();
    builder.finish();
    expect(thrown(() => builder.finish()).code).toBe("FAILED_PRECONDITION");
    expect(thrown(() => builder.update(file)).code).toBe("FAILED_PRECONDITION");
  });
});
