import { describe, expect, it } from "vitest";
import { inject, injectable } from "tsyringe";
import { createServiceContainer } from "./container.js";
import { createRecordingLogger, type Logger, Tokens } from "@df/interface";

@injectable()
class Greeter {
  constructor(@inject(Tokens.Logger) private readonly logger: Logger) {}
  greet(): void {
    this.logger.info("hello");
  }
}

describe("createServiceContainer", () => {
  it("gives each service its own registrations", () => {
    const a = createServiceContainer();
    const b = createServiceContainer();
    const logA = createRecordingLogger("a");
    const logB = createRecordingLogger("b");
    a.registerInstance(Tokens.Logger, logA);
    b.registerInstance(Tokens.Logger, logB);
    a.resolve(Greeter).greet();
    expect(logA.lines).toHaveLength(1);
    expect(logB.lines).toHaveLength(0);
    expect(b.isRegistered(Tokens.Logger)).toBe(true);
    expect(createServiceContainer().isRegistered(Tokens.Logger)).toBe(false);
  });
});
