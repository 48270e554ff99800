import "reflect-metadata";
import { describe, expect, it } from "vitest";
import { inject, injectable } from "tsyringe";
import { DfError } from "@df/interface";
import { ComposedService, type ServiceModule } from "./modules.js";

const Greeting = Symbol("test.Greeting");
const Name = Symbol("test.Name");

@injectable()
class Greeter {
  constructor(@inject(Greeting) readonly greeting: string, @inject(Name) readonly name: string) {}
  line(): string {
    return `${this.greeting}, ${this.name}`;
  }
}

function recorder(events: string[], name: string, extra: Partial<ServiceModule> = {}): ServiceModule {
  return { name, start: () => void events.push(`start ${name}`), stop: () => void events.push(`stop ${name}`), ...extra };
}

describe("ComposedService", () => {
  it("registers every module, makes factories once on first use, and injects classes", () => {
    let made = 0;
    const service = new ComposedService([
      { name: "greeting", register: (r) => r.value(Greeting, "hello") },
      { name: "name", register: (r) => r.factory(Name, () => (made++, "df")) },
      { name: "greeter", register: (r) => r.singleton(Greeter) },
    ]);
    expect(service.resolve(Greeter).line()).toBe("hello, df");
    expect(service.resolve(Greeter)).toBe(service.resolve(Greeter));
    expect(service.resolve(Name)).toBe("df");
    expect(made).toBe(1);
    expect(service.ownerOf(Name)).toBe("name");
  });

  it("refuses one token registered by two modules, naming both", () => {
    expect(
      () =>
        new ComposedService([
          { name: "first", register: (r) => r.value(Greeting, "a") },
          { name: "second", register: (r) => r.value(Greeting, "b") },
        ]),
    ).toThrow("module second registers test.Greeting, which module first registered already");
  });

  it("names the missing token and who needed it", () => {
    const service = new ComposedService([
      { name: "greeting", register: (r) => r.value(Greeting, "hello") },
      { name: "greeter", register: (r) => r.factory(Symbol("test.Line"), (resolve) => resolve(Name)) },
    ]);
    expect(() => service.resolve(Name, "module greeter")).toThrow("module greeter needs test.Name, which no module of this service registers");
    const line = service.container.isRegistered(Greeter);
    expect(line).toBe(false);
    expect(() => service.resolve(Greeter)).toThrow("the service needs Greeter, which no module of this service registers");
  });

  it("hands each module's start the parts of the modules before it", async () => {
    let heard = "";
    const service = new ComposedService([
      { name: "greeting", register: (r) => r.value(Greeting, "hi") },
      { name: "listener", start: (resolve) => void (heard = resolve(Greeting)) },
      { name: "asker", start: (resolve) => void resolve(Name) },
    ]);
    await expect(service.start()).rejects.toThrow("module asker needs test.Name, which no module of this service registers");
    expect(heard).toBe("hi");
  });

  it("starts in list order and stops in reverse", async () => {
    const events: string[] = [];
    const service = new ComposedService([recorder(events, "a"), recorder(events, "b"), recorder(events, "c")]);
    await service.start();
    await service.stop();
    expect(events).toEqual(["start a", "start b", "start c", "stop c", "stop b", "stop a"]);
  });

  it("when a module fails to start, stops those started, in reverse, and throws its error as it was", async () => {
    const events: string[] = [];
    const bad = new DfError("INVALID_ARGUMENT", "upload.listen must be host:port");
    const service = new ComposedService([
      recorder(events, "a"),
      recorder(events, "b"),
      recorder(events, "c", { start: () => Promise.reject(bad) }),
      recorder(events, "d"),
    ]);
    await expect(service.start()).rejects.toBe(bad);
    expect(events).toEqual(["start a", "start b", "stop b", "stop a"]);
  });

  it("closes once: waits for a start in progress, stops what started, then disposes the container", async () => {
    const events: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const service = new ComposedService([recorder(events, "a"), recorder(events, "slow", { start: () => gate.then(() => void events.push("start slow")) })]);
    const starting = service.start();
    const closing = service.close();
    expect(service.close()).toBe(closing);
    release();
    await starting;
    await closing;
    expect(events).toEqual(["start a", "start slow", "stop slow", "stop a"]);
    expect(() => service.container.resolve(Greeting)).toThrow();
  });

  it("stops every module even when some fail, and throws the first failure", async () => {
    const events: string[] = [];
    const service = new ComposedService([
      recorder(events, "a", { stop: () => Promise.reject(new Error("a broke")) }),
      recorder(events, "b", { stop: () => Promise.reject(new Error("b broke")) }),
      recorder(events, "c"),
    ]);
    await service.start();
    await expect(service.stop()).rejects.toThrow("b broke");
    expect(events).toEqual(["start a", "start b", "start c", "stop c"]);
  });
});
