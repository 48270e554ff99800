import { DfError } from "@df/interface";

/** Event name → the states it may fire from, and the state it leads to. */
export type Transitions<S extends string, E extends string> = Readonly<Record<E, { readonly from: readonly S[]; readonly to: S }>>;

/**
 * A small finite state machine. A transition that the table does not allow is an
 * error, not a silent no-op: a peer reporting "finished" twice, or a task failing
 * after it succeeded, is a bug or a confused client that must surface.
 */
export class StateMachine<S extends string, E extends string> {
  #state: S;
  #changedAt: number;

  constructor(
    readonly name: string,
    initial: S,
    private readonly transitions: Transitions<S, E>,
    private readonly now: () => number = Date.now,
  ) {
    this.#state = initial;
    this.#changedAt = now();
  }

  get state(): S {
    return this.#state;
  }

  /** When the state last changed (ms since the epoch). */
  get changedAt(): number {
    return this.#changedAt;
  }

  is(...states: S[]): boolean {
    return states.includes(this.#state);
  }

  can(event: E): boolean {
    return this.transitions[event].from.includes(this.#state);
  }

  fire(event: E): S {
    if (!this.can(event)) {
      throw new DfError(
        "FAILED_PRECONDITION",
        `${this.name}: cannot ${event} while ${this.#state} (allowed from ${this.transitions[event].from.join(", ")})`,
        { reason: "invalid-state-transition", details: { event, state: this.#state } },
      );
    }
    this.#state = this.transitions[event].to;
    this.#changedAt = this.now();
    return this.#state;
  }
}
