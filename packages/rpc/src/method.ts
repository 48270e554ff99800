import { DfError } from "@df/interface/errors";
import { type ServiceDefinitionLike } from "./definition.js";

export interface MethodCodecs {
  path: string;
  serialize: (value: unknown) => Buffer;
  deserialize: (bytes: Buffer) => unknown;
}

/** The client-side codecs of one method; a name the service lacks is UNIMPLEMENTED. */
export function codecs(service: ServiceDefinitionLike, method: string): MethodCodecs {
  const definition = Object.hasOwn(service, method) ? service[method] : undefined;
  if (definition === undefined) {
    throw new DfError("UNIMPLEMENTED", `the service has no method ${JSON.stringify(method)}`, {
      reason: "unknown-method",
      details: { method },
    });
  }
  return {
    path: definition.path,
    serialize: definition.requestSerialize as (value: unknown) => Buffer,
    deserialize: definition.responseDeserialize,
  };
}
