import type { IncomingMessage } from "node:http";
import type { z } from "zod";
import type { Role } from "../db/schema.js";
import type { TokenScope } from "./schemas.js";

/** Who is calling: a signed-in user (session) or a personal access token's owner. */
export interface Principal {
  userId: number;
  name: string;
  role: Role;
  via: "session" | "token";
  /** For personal access tokens: what the token may reach. */
  scopes?: readonly string[];
  /** For personal access tokens: the token's row. */
  tokenId?: number;
  /** When the session or token stops working. */
  expiresAt: Date;
  tokenHash: string;
}

export interface RequestContext {
  request: IncomingMessage;
  params: Record<string, string>;
  query: Record<string, string>;
  body: unknown;
  principal: Principal | undefined;
}

export interface Reply {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * Who may call a route: `public` anyone; `read` any signed-in user; `write` root only
 * (guests are read-only); `self` any signed-in user, the handler checks it is their own
 * (or root).
 */
export type Access = "public" | "read" | "write" | "self";

export interface Route {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  /** find-my-way syntax: `/api/v1/users/:id`. */
  path: string;
  access: Access;
  /** The PAT scope the route needs; none: any token. */
  resource?: TokenScope;
  summary: string;
  tag: string;
  body?: z.ZodType;
  /** Query filters besides page/per_page (for OpenAPI and validation). */
  query?: z.ZodObject;
  response?: z.ZodType;
  /** The response is a page of `response` items. */
  list?: boolean;
  status?: number;
  /**
   * What callers other than root see of one item of the answer (each item of a list):
   * secrets hidden. The server applies it, so a handler cannot forget to.
   */
  redact?(item: unknown): unknown;
  handler(ctx: RequestContext): Promise<Reply>;
}
