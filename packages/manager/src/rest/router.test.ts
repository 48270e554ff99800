import { describe, expect, it } from "vitest";
import type { Route } from "./context.js";
import { RestRouter } from "./router.js";

const route = (method: Route["method"], path: string): Route => ({
  method,
  path,
  access: "read",
  summary: `${method} ${path}`,
  tag: "test",
  handler: async () => ({}),
});

const routes = [
  route("GET", "/api/v1/users/me"),
  route("GET", "/api/v1/users/:id"),
  route("PATCH", "/api/v1/users/:id"),
  route("POST", "/api/v1/users/:id/password"),
  route("GET", "/api/v1/users"),
  route("POST", "/api/v1/users"),
];
const router = new RestRouter(routes);
const summaryOf = (method: string, path: string) => {
  const found = router.match(method, path);
  return typeof found === "object" ? [found.route.summary, found.params] : found;
};

describe("the REST router", () => {
  it("matches a route by method and path, static segments before parameters, parameters decoded", () => {
    expect(summaryOf("GET", "/api/v1/users/me")).toEqual(["GET /api/v1/users/me", {}]);
    expect(summaryOf("GET", "/api/v1/users/12")).toEqual(["GET /api/v1/users/:id", { id: "12" }]);
    expect(summaryOf("PATCH", "/api/v1/users/me")).toEqual(["PATCH /api/v1/users/:id", { id: "me" }]);
    expect(summaryOf("POST", "/api/v1/users/7/password")).toEqual(["POST /api/v1/users/:id/password", { id: "7" }]);
    expect(summaryOf("GET", "/api/v1/users/a%2Fb%20c")).toEqual(["GET /api/v1/users/:id", { id: "a/b c" }]);
    expect(summaryOf("GET", `/api/v1/users/${"9".repeat(500)}`)).toEqual(["GET /api/v1/users/:id", { id: "9".repeat(500) }]);
  });

  it("tells a path served only for other methods (405) from no path at all (404)", () => {
    expect(summaryOf("DELETE", "/api/v1/users/12")).toBe("wrong-method");
    expect(summaryOf("PUT", "/api/v1/users")).toBe("wrong-method");
    expect(summaryOf("HEAD", "/api/v1/users/me")).toBe("wrong-method");
    expect(summaryOf("GET", "/api/v1/nothing")).toBeUndefined();
    expect(summaryOf("GET", "/API/v1/users")).toBeUndefined();
    expect(summaryOf("GET", "/api/v1/users/%E0")).toBeUndefined();
  });

  it("matches no route on a path with an empty segment (/a//b is not /a/b), but ignores one trailing slash", () => {
    for (const [method, path] of [
      ["GET", "/api/v1//users"],
      ["GET", "//api/v1/users"],
      ["GET", "/api//v1/users/me"],
      ["GET", "/api/v1/users//me"],
      ["POST", "/api/v1/users//password"],
      ["POST", "/api/v1/users/7//password"],
      ["GET", "/api/v1/users//"],
      ["GET", "/api/v1/users///"],
    ]) {
      expect(router.match(method!, path!), `${method} ${path}`).toBeUndefined();
    }
    expect(summaryOf("GET", "/api/v1/users/")).toEqual(["GET /api/v1/users", {}]);
    expect(summaryOf("GET", "/api/v1/users/12/")).toEqual(["GET /api/v1/users/:id", { id: "12" }]);
  });

  it("refuses the same method and path twice", () => {
    expect(() => new RestRouter([route("GET", "/a/:id"), route("GET", "/a/:id")])).toThrow();
  });
});
