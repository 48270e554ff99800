import { z } from "zod";
import { isCredentialName, redactConfig } from "../../auth/redact.js";
import type { Route } from "../context.js";
import { asRead, crudRoutes } from "../crud.js";
import type { RouteDeps } from "../deps.js";
import * as s from "../schemas.js";
import { defined } from "./common.js";

/** `/api/v1/configs`: named configuration values; a secret one's value is shown to root only. */
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
      // Unless told otherwise, a config named like a credential is secret from the start.
      toInsert: (input) => ({ name: input.name, value: input.value, secret: input.secret ?? isCredentialName(input.name), bio: input.bio ?? "" }),
      toUpdate: (input) => defined({ name: input.name, value: input.value, secret: input.secret, bio: input.bio }),
      decorate: asRead,
      toJson: (row) => row,
      // The audit row says whether the value it holds is secret (redactAudit reads it).
      auditRow: (row) => ({ secret: row.secret }),
      redact: redactConfig,
    },
    deps,
  );
}
