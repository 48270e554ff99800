// The common package spans two generated files; one namespace for both.
export * from "./gen/df/common/v1/common.js";
export * from "./gen/df/common/v1/host.js";
