import Router from "find-my-way";
import type { Route } from "./context.js";

const METHODS: readonly Route["method"][] = ["GET", "POST", "PATCH", "DELETE"];

const isMethod = (method: string): method is Route["method"] => (METHODS as readonly string[]).includes(method);

/** What a request's method and path lead to: a route and its path parameters, a path served only for other methods, or nothing. */
export type RouteMatch = { route: Route; params: Record<string, string> } | "wrong-method" | undefined;

/**
 * The REST routes on find-my-way (fastify's radix-tree router). Paths match segment by
 * segment: an empty segment (`/a//b`) matches no route and no parameter (`/users//password`),
 * a single trailing slash is ignored (`/api/v1/users/` is `/api/v1/users`), static
 * segments win over parameters (`/users/me` before `/users/:id`), and parameters are
 * percent-decoded. Registering one method and path twice throws.
 */
export class RestRouter {
  readonly #router = Router({
    ignoreTrailingSlash: true,
    // No limit of the router's own: Node's header limit bounds a URL, and an over-long
    // ID is the handler's 400, not a 404.
    maxParamLength: Number.MAX_SAFE_INTEGER,
  });
  readonly #routes = new Map<string, Route>();

  constructor(routes: readonly Route[]) {
    for (const route of routes) {
      const key = `${route.method} ${route.path}`;
      this.#routes.set(key, route);
      this.#router.on(route.method, route.path, () => undefined, key);
    }
  }

  match(method: string, path: string): RouteMatch {
    const found = this.#find(method, path);
    if (found) return found;
    return METHODS.some((other) => other !== method && this.#find(other, path)) ? "wrong-method" : undefined;
  }

  #find(method: string, path: string): { route: Route; params: Record<string, string> } | undefined {
    if (!isMethod(method)) return undefined;
    const found = this.#router.find(method, path);
    const route = typeof found?.store === "string" ? this.#routes.get(found.store) : undefined;
    if (!found || !route) return undefined;
    const params: Record<string, string> = {};
    for (const [name, value] of Object.entries(found.params)) {
      // An empty segment is no segment: `/users//password` is not `/users/:id/password`.
      if (!value) return undefined;
      params[name] = value;
    }
    return { route, params };
  }
}
