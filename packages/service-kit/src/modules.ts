import type { DependencyContainer, InjectionToken } from "tsyringe";
import { DfError, errorMessage } from "@df/interface";
import { createServiceContainer } from "./container.js";

/**
 * One part of a service: what it puts in the service's container, and what it does when
 * the service starts and stops. A service is a list of modules; its root registers them
 * all, starts them in list order and stops them in reverse, so a module may rely on
 * every module before it having started, and on every module after it having stopped.
 */
export interface ServiceModule {
  readonly name: string;
  /** Puts this module's parts in the container: values, or factories made on first use. */
  register?(registry: ModuleRegistry): void;
  /** Starts the module; `resolve` gets the parts it needs (made now, from modules started before). */
  start?(resolve: Resolve): void | Promise<void>;
  stop?(): void | Promise<void>;
}

/** A module's handle on the service's container while it registers. */
export interface ModuleRegistry {
  /** Provides `token` as `value`. */
  value<T>(token: InjectionToken<T>, value: T): void;
  /** Provides `token` as what `make` returns, made once, the first time it is needed. */
  factory<T>(token: InjectionToken<T>, make: (resolve: Resolve) => T): void;
  /** Provides a class that names its dependencies with `@inject`, made once on first use. */
  singleton<T>(token: Injectable<T>): void;
  /** Gets a part later, e.g. from a callback (parts are made on first use, when their own parts are ready). */
  readonly resolve: Resolve;
}

/** A class that names its constructor's dependencies with `@inject`: its own token. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tsyringe's own constructor type
export type Injectable<T> = new (...args: any[]) => T;

/** Gets a part from the container, naming the module that needs it when it is missing. */
export type Resolve = <T>(token: InjectionToken<T>) => T;

/** A service's modules, registered into one fresh container. */
export class ComposedService {
  readonly container: DependencyContainer;
  readonly #modules: readonly ServiceModule[];
  readonly #owners = new Map<InjectionToken<unknown>, string>();
  #started: ServiceModule[] = [];
  #starting: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  /** Registers every module; one token registered twice throws, naming both modules. */
  constructor(modules: readonly ServiceModule[], container: DependencyContainer = createServiceContainer()) {
    this.container = container;
    this.#modules = modules;
    const names = new Set<string>();
    for (const module of modules) {
      if (names.has(module.name)) throw new DfError("INTERNAL", `two modules are named "${module.name}"`, { reason: "module-conflict" });
      names.add(module.name);
      module.register?.(this.#registryFor(module.name));
    }
  }

  /**
   * A part by its token, made now if it was registered as a factory. A token no module
   * registers throws, naming the token and who asked.
   */
  resolve<T>(token: InjectionToken<T>, by = "the service"): T {
    if (!this.container.isRegistered(token, true)) {
      throw new DfError("INTERNAL", `${by} needs ${describeToken(token)}, which no module of this service registers`, {
        reason: "module-missing",
        details: { token: describeToken(token), by },
      });
    }
    try {
      return this.container.resolve(token);
    } catch (error) {
      if (error instanceof DfError) throw error;
      throw new DfError("INTERNAL", `${by} needs ${describeToken(token)} (registered by module ${this.#owners.get(token) ?? "?"}), which could not be made: ${errorMessage(error)}`, {
        reason: "module-missing",
        cause: error,
      });
    }
  }

  /** Which module registered `token`, if any. */
  ownerOf(token: InjectionToken<unknown>): string | undefined {
    return this.#owners.get(token);
  }

  /** Starts the modules in order, once; when one fails, stops those already started, in reverse, and throws. */
  start(): Promise<void> {
    this.#starting ??= this.#start();
    return this.#starting;
  }

  /**
   * Stops the service for good, once, whether it started, failed to start or is still
   * starting (that start settles first): the modules in reverse, then the container.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#starting?.catch(() => {});
      try {
        await this.stop();
      } finally {
        await this.container.dispose();
      }
    })();
    return this.#closing;
  }

  async #start(): Promise<void> {
    for (const module of this.#modules) {
      try {
        await module.start?.((token) => this.resolve(token, `module ${module.name}`));
      } catch (error) {
        // Thrown as it is: its code says what went wrong (a bad listen address is a config error).
        await this.stop().catch(() => {});
        throw error;
      }
      this.#started.push(module);
    }
  }

  /** Stops the started modules in reverse order, every one even if some fail; throws the first failure as it was. */
  async stop(): Promise<void> {
    const started = this.#started.reverse();
    this.#started = [];
    const failures: unknown[] = [];
    for (const module of started) {
      try {
        await module.stop?.();
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length > 0) throw failures[0];
  }

  #registryFor(module: string): ModuleRegistry {
    const claim = (token: InjectionToken<unknown>): void => {
      const owner = this.#owners.get(token);
      if (owner !== undefined) {
        throw new DfError("INTERNAL", `module ${module} registers ${describeToken(token)}, which module ${owner} registered already`, {
          reason: "module-conflict",
          details: { token: describeToken(token), modules: [owner, module] },
        });
      }
      this.#owners.set(token, module);
    };
    const resolve: Resolve = (token) => this.resolve(token, `module ${module}`);
    return {
      value: (token, value) => {
        claim(token);
        this.container.registerInstance(token, value);
      },
      factory: (token, make) => {
        claim(token);
        let made = false;
        let instance: unknown;
        this.container.register(token, {
          useFactory: () => {
            if (!made) {
              instance = make(resolve);
              made = true;
            }
            return instance as never;
          },
        });
      },
      singleton: (token) => {
        claim(token);
        this.container.registerSingleton(token);
      },
      resolve,
    };
  }
}

function describeToken(token: InjectionToken<unknown>): string {
  if (typeof token === "symbol") return token.description ?? String(token);
  if (typeof token === "string") return `"${token}"`;
  if (typeof token === "function") return token.name;
  return String(token);
}
