import type { Route } from "./context.js";
import type { RouteDeps } from "./deps.js";
import { applicationRoutes } from "./resources/applications.js";
import { auditRoutes } from "./resources/audits.js";
import { schedulerClusterRoutes, seedPeerClusterRoutes } from "./resources/clusters.js";
import { configRoutes } from "./resources/configs.js";
import { jobRoutes } from "./resources/jobs.js";
import { peerRoutes, schedulerRoutes, seedPeerRoutes } from "./resources/members.js";
import { tokenRoutes } from "./resources/tokens.js";
import { userRoutes } from "./resources/users.js";

/** Every REST route but OpenAPI and health, resource by resource (the OpenAPI document lists them in this order). */
export function buildRoutes(deps: RouteDeps): Route[] {
  return [
    ...userRoutes(deps),
    ...tokenRoutes(deps),
    ...schedulerClusterRoutes(deps),
    ...seedPeerClusterRoutes(deps),
    ...schedulerRoutes(deps),
    ...seedPeerRoutes(deps),
    ...peerRoutes(deps),
    ...applicationRoutes(deps),
    ...configRoutes(deps),
    ...jobRoutes(deps),
    ...auditRoutes(deps),
  ];
}
