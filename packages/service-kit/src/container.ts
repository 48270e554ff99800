import "reflect-metadata";
import { container as rootContainer, type DependencyContainer } from "tsyringe";

/**
 * A fresh container for one service instance (one daemon, one scheduler). Nothing is
 * ever registered on the root, so many services in one process (tests run whole
 * clusters in one process) share no state.
 */
export function createServiceContainer(): DependencyContainer {
  return rootContainer.createChildContainer();
}

export type { DependencyContainer } from "tsyringe";
