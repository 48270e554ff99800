import { z } from "zod";
import type { Route } from "../context.js";
import { asRead, crudRoutes } from "../crud.js";
import type { RouteDeps } from "../deps.js";
import * as s from "../schemas.js";
import { defined } from "./common.js";

/** `/api/v1/configs`: named configuration values. */
export function configRoutes(deps: RouteDeps): Route[] {
  return crudRoutes(
    {
      resource: "configs",
      table: "configs",
      tag: "configs",
      noun: "config",
      create: s.configCreate,
      update: s.configUpdate,
      output: s.configOut,
      filters: z.object({ name: z.string().optional() }),
      toInsert: (input) => ({ name: input.name, value: input.value, bio: input.bio ?? "" }),
      toUpdate: (input) => defined({ name: input.name, value: input.value, bio: input.bio }),
      decorate: asRead,
      toJson: (row) => row,
    },
    deps,
  );
}
