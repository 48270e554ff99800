import { z } from "zod";
import type { Route } from "../context.js";
import { asRead, crudRoutes } from "../crud.js";
import type { RouteDeps } from "../deps.js";
import * as s from "../schemas.js";
import { defined, json } from "./common.js";

/** `/api/v1/applications`: named applications and their download priorities by URL. */
export function applicationRoutes(deps: RouteDeps): Route[] {
  return crudRoutes(
    {
      resource: "applications",
      table: "applications",
      tag: "applications",
      noun: "application",
      create: s.applicationCreate,
      update: s.applicationUpdate,
      output: s.applicationOut,
      filters: z.object({ name: z.string().optional() }),
      toInsert: (input, _tx, principal) => ({
        name: input.name,
        url: input.url ?? "",
        bio: input.bio ?? "",
        priority: json(input.priority ?? { value: 6, urls: [] }),
        user_id: principal.userId,
      }),
      toUpdate: (input) => defined({ name: input.name, url: input.url, bio: input.bio, priority: input.priority && json(input.priority) }),
      decorate: asRead,
      toJson: (row) => row,
    },
    deps,
  );
}
