import { describe, expect, it } from "vitest";
import { DEFAULT_FILTERED_QUERY_PARAMS, filterUrl, queryEscape } from "./query-params.js";
import { thrown } from "./test-support/errors.js";

describe("DEFAULT_FILTERED_QUERY_PARAMS", () => {
  it("is the union of the S3, GCS, OSS, OBS, COS and containerd lists, once each", () => {
    expect([...DEFAULT_FILTERED_QUERY_PARAMS].sort()).toEqual(
      [
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
        "X-Amz-Security-Token",
        "X-Amz-User-Agent",
        "X-Goog-Algorithm",
        "X-Goog-Credential",
        "X-Goog-Date",
        "X-Goog-Expires",
        "X-Goog-SignedHeaders",
        "X-Goog-Signature",
        "OSSAccessKeyId",
        "Expires",
        "Signature",
        "SecurityToken",
        "AccessKeyId",
        "X-Obs-Date",
        "X-Obs-Security-Token",
        "q-sign-algorithm",
        "q-ak",
        "q-sign-time",
        "q-key-time",
        "q-header-list",
        "q-url-param-list",
        "q-signature",
        "x-cos-security-token",
        "ns",
      ].sort(),
    );
    expect(Object.isFrozen(DEFAULT_FILTERED_QUERY_PARAMS)).toBe(true);
  });
});

describe("filterUrl", () => {
  // Cases from the Rust client's url module tests.
  it.each([
    ["https://example.com/file.txt?z=9&b=2&a=1", ["z"], "https://example.com/file.txt?a=1&b=2"],
    ["https://example.com/file.txt?b=2&a=1&b=1", ["c"], "https://example.com/file.txt?a=1&b=2&b=1"],
    ["https://example.com?foo=foo", ["foo"], "https://example.com"],
    ["https://example.com/file.txt?k=a b&m=x*y&n=c~d", ["none"], "https://example.com/file.txt?k=a+b&m=x%2Ay&n=c~d"],
    ["http://www.xx.yy/path?u=f&x=y&m=z&x=s#size", ["x", "m"], "http://www.xx.yy/path?u=f#size"],
    ["http://www.xx.yy/path?u=f&x=y&m=z&x=s#size", [], "http://www.xx.yy/path?u=f&x=y&m=z&x=s#size"],
    ["https://example.com/file.txt?a=1;x&b=2", ["none"], "https://example.com/file.txt?b=2"],
  ])("%s without %j is %s", (url, filters, expected) => {
    expect(filterUrl(url, filters)).toBe(expected);
  });

  it("drops presigned-URL parameters by default, so re-signed URLs agree", () => {
    const a = "https://bucket.s3.amazonaws.com/key?X-Amz-Date=1&X-Amz-Signature=aa&versionId=3";
    const b = "https://bucket.s3.amazonaws.com/key?versionId=3&X-Amz-Signature=bb&X-Amz-Date=2";
    expect(filterUrl(a)).toBe("https://bucket.s3.amazonaws.com/key?versionId=3");
    expect(filterUrl(b)).toBe(filterUrl(a));
    expect(filterUrl("https://registry/v2/x/blobs/sha256:ab?ns=docker.io")).toBe("https://registry/v2/x/blobs/sha256:ab");
  });

  it("matches keys exactly and case-sensitively", () => {
    expect(filterUrl("https://h/p?expires=1&Expires=2&Expires2=3")).toBe("https://h/p?Expires2=3&expires=1");
  });

  it("trims the trailing slash of a bare '/' path only", () => {
    expect(filterUrl("https://example.com/", ["x"])).toBe("https://example.com");
    expect(filterUrl("https://example.com", ["x"])).toBe("https://example.com");
    expect(filterUrl("https://example.com/?x=1", ["x"])).toBe("https://example.com");
    expect(filterUrl("https://example.com/?y=1", ["x"])).toBe("https://example.com/?y=1");
    expect(filterUrl("https://example.com/dir/", ["x"])).toBe("https://example.com/dir/");
  });

  it("leaves the URL exactly as given when the filter list is empty", () => {
    expect(filterUrl("https://example.com/", [])).toBe("https://example.com/");
    expect(filterUrl("https://example.com/f?b=2&a=1", [])).toBe("https://example.com/f?b=2&a=1");
  });

  it("re-encodes decoded pairs like Go's url.QueryEscape", () => {
    expect(filterUrl("https://h/p?q=%E4%B8%AD&r=1%2B1&s=a%20b&t", ["x"])).toBe(
      "https://h/p?q=%E4%B8%AD&r=1%2B1&s=a+b&t=",
    );
  });

  it("orders keys by UTF-8 bytes, not UTF-16 code units", () => {
    // U+FF01 sorts after U+1F600 in UTF-8 order only.
    expect(filterUrl("https://h/p?%F0%9F%98%80=1&%EF%BC%81=2", ["x"])).toBe(
      "https://h/p?%EF%BC%81=2&%F0%9F%98%80=1",
    );
  });

  it.each([":error_url", "", "not a url", "//no-scheme/path"])("refuses %j, quoting it", (url) => {
    const error = thrown(() => filterUrl(url));
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toContain(`"${url}"`);
  });
});

describe("queryEscape", () => {
  it.each([
    ["a b", "a+b"],
    ["x*y", "x%2Ay"],
    ["c~d", "c~d"],
    ["1+1", "1%2B1"],
    ["中", "%E4%B8%AD"],
    ["-._~AZaz09", "-._~AZaz09"],
    ["!'()/?&=#", "%21%27%28%29%2F%3F%26%3D%23"],
  ])("%j → %j", (input, expected) => {
    expect(queryEscape(input)).toBe(expected);
  });
});
