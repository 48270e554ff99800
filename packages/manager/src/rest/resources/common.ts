import { z } from "zod";
import { DfError } from "@df/interface";
import type { Db } from "../../db/database.js";

/** A jsonb column's value as written: JSON text. */
export const json = (value: unknown): string => JSON.stringify(value);

/** An optional `?…_id=` filter. */
export const idFilter = z.coerce.number().int().positive().optional();

/** `input` without its undefined fields: what a PATCH body sets. */
export function defined<O extends object>(input: O): { [K in keyof O]?: Exclude<O[K], undefined> } {
  const out: { [K in keyof O]?: Exclude<O[K], undefined> } = {};
  for (const key in input) {
    const value = input[key];
    if (value !== undefined) out[key] = value as Exclude<O[typeof key], undefined>;
  }
  return out;
}

export function forbidden(message: string): DfError {
  return new DfError("PERMISSION_DENIED", message, { reason: "forbidden" });
}

/** 400 naming `field` unless every ID in `ids` is a row of `table`. */
export async function checkIds(db: Db, table: "scheduler_clusters" | "seed_peer_clusters", ids: readonly number[] | undefined, field: string): Promise<void> {
  if (!ids?.length) return;
  const unique = [...new Set(ids)];
  const found = await db.selectFrom(table).select("id").where("id", "in", unique).execute();
  if (found.length !== unique.length) {
    const known = new Set(found.map((r) => r.id));
    const missing = unique.filter((id) => !known.has(id));
    throw new DfError("INVALID_ARGUMENT", `${field}: no such ${table.replace(/_/g, " ").replace(/s$/, "")} ${missing.join(", ")}`, {
      reason: "validation-failed",
      details: { field },
    });
  }
}
