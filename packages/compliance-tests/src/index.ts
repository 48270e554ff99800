/**
 * @packageDocumentation
 * The suites every df plugin of a kind must pass, built-in or third-party. A plugin's
 * own test file calls the suite with a setup that makes instances; the suite registers
 * vitest tests. Third-party authors run the same suites in their packages.
 */
export * from "./evaluator.js";
export * from "./shaper.js";
export * from "./source.js";
