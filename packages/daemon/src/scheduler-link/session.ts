import { DfError, hasErrorCode, noopLogger, toDfError, type Logger } from "@df/interface";
import { bidiStream, common, scheduler, type BidiCall } from "@df/rpc";
import type { ParentRef } from "../transfer/types.js";
import type { SchedulerClients } from "./scheduler-clients.js";

/** What the scheduler said to do next. */
export type ScheduleAnswer =
  | { kind: "empty" }
  | { kind: "parents"; parents: ParentRef[] }
  | { kind: "back-to-source"; reason: string }
  /** No answer: unreachable, refused, timed out or the stream broke. */
  | { kind: "no-answer"; error: DfError };

export type PeerEvent = NonNullable<scheduler.AnnouncePeerRequest["request"]>;

export interface SessionIds {
  hostId: string;
  taskId: string;
  peerId: string;
}

export interface OpenSessionOptions {
  /** Longest wait for one answer. */
  timeoutMs: number;
  /** Announces this host to `address` again (the scheduler forgot it, e.g. it restarted). */
  announceHost: (address: string) => Promise<void>;
  logger?: Logger;
  signal?: AbortSignal;
}

type Call = BidiCall<scheduler.AnnouncePeerRequest, scheduler.AnnouncePeerResponse>;

/**
 * One AnnouncePeer stream: the peer's registration and progress reports go up, the
 * scheduler's answers (parents, back to source, empty) come down. Reports are fire and
 * forget: once the stream breaks they are dropped and the next answer asked for is
 * `no-answer`, which the download treats like an unreachable scheduler.
 */
export class SchedulerSession {
  readonly #call: Call;
  readonly #ids: SessionIds;
  readonly #logger: Logger;
  readonly #timeoutMs: number;
  readonly #answers: scheduler.AnnouncePeerResponse[] = [];
  readonly #pump: Promise<void>;
  readonly address: string;
  #error: DfError | undefined;
  #ended = false;
  #wake: (() => void) | undefined;
  /** Questions go one at a time: answers come in order, with nothing to match them by. */
  #turn: Promise<void> = Promise.resolve();

  private constructor(call: Call, address: string, ids: SessionIds, timeoutMs: number, logger: Logger) {
    this.#call = call;
    this.address = address;
    this.#ids = ids;
    this.#timeoutMs = timeoutMs;
    this.#logger = logger;
    this.#pump = this.#read();
  }

  /**
   * Registers the peer with the scheduler its task hashes to, falling over to the
   * next address when one is unreachable. Returns the session (undefined when no
   * scheduler took the registration) and the first answer.
   */
  static async open(
    clients: SchedulerClients,
    ids: SessionIds,
    download: scheduler.RegisterPeerRequest["download"],
    options: OpenSessionOptions,
  ): Promise<{ session: SchedulerSession | undefined; answer: ScheduleAnswer }> {
    const logger = options.logger ?? noopLogger;
    let last: DfError = new DfError("UNAVAILABLE", "no scheduler is configured (scheduler.addresses is empty)");
    for (const address of clients.forTask(ids.taskId)) {
      let announced = false;
      for (;;) {
        const call = bidiStream(clients.client(address), "announcePeer", options.signal ? { signal: options.signal } : {});
        const session = new SchedulerSession(call, address, ids, options.timeoutMs, logger);
        session.send({ $case: "register", value: { download } });
        const answer = await session.next();
        if (answer.kind !== "no-answer") return { session, answer };
        session.cancel();
        last = answer.error;
        if (!announced && hasErrorCode(answer.error, "NOT_FOUND", "host-not-found")) {
          // The scheduler restarted or dropped this host: announce again and retry once.
          announced = true;
          await options.announceHost(address).catch(() => {});
          continue;
        }
        break;
      }
      if (last.code !== "UNAVAILABLE") break;
      logger.warn("scheduler unreachable; trying the next one", { address, error: last.message });
    }
    return { session: undefined, answer: { kind: "no-answer", error: last } };
  }

  /** True once the stream is gone: reports are dropped and answers are `no-answer`. */
  get broken(): boolean {
    return this.#ended;
  }

  send(event: PeerEvent): void {
    if (this.#ended) return;
    this.#call.write(scheduler.AnnouncePeerRequest.create({ ...this.#ids, request: event })).catch((error: unknown) => {
      this.#logger.debug("a report to the scheduler was not sent", { kind: event.$case, error: String(error) });
    });
  }

  /** Asks for new parents, blocklisting `failedParents`; resolves with the answer. */
  reschedule(failedParents: readonly string[], description: string): Promise<ScheduleAnswer> {
    return this.#ask(
      { $case: "reschedule", value: { candidateParents: failedParents.map((id) => common.Peer.create({ id })), description, moreParents: false } },
      () => this.next(),
    );
  }

  /**
   * Asks for parents besides `current`, which stay this peer's parents (none of them is
   * blocklisted). Resolves with the new ones, possibly none; fails when the scheduler
   * does not answer.
   */
  moreParents(current: readonly string[]): Promise<ParentRef[]> {
    return this.#ask(
      {
        $case: "reschedule",
        value: { candidateParents: current.map((id) => common.Peer.create({ id })), description: "more parents", moreParents: true },
      },
      async () => {
        const response = await this.#nextResponse();
        if (response instanceof DfError) throw response;
        const body = response.response;
        return body?.$case === "normalTask" ? body.value.candidateParents.flatMap(toParent) : [];
      },
    );
  }

  async #ask<T>(event: PeerEvent, read: () => Promise<T>): Promise<T> {
    const previous = this.#turn;
    let done!: () => void;
    this.#turn = new Promise<void>((resolve) => (done = resolve));
    await previous;
    try {
      this.send(event);
      return await read();
    } finally {
      done();
    }
  }

  /** The next answer, or `no-answer` when the stream ends, fails or stays silent too long. */
  async next(): Promise<ScheduleAnswer> {
    for (;;) {
      const response = await this.#nextResponse();
      if (response instanceof DfError) return { kind: "no-answer", error: response };
      const answer = toAnswer(response);
      if (answer) return answer;
    }
  }

  /** The next message from the scheduler, or why there is none (the stream ended, failed or stayed silent too long). */
  async #nextResponse(): Promise<scheduler.AnnouncePeerResponse | DfError> {
    const deadline = Date.now() + this.#timeoutMs;
    for (;;) {
      const response = this.#answers.shift();
      if (response) return response;
      if (this.#ended) {
        return this.#error ?? new DfError("UNAVAILABLE", `the scheduler at ${this.address} ended the announce stream`, { reason: "stream-ended" });
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        const error = new DfError("DEADLINE_EXCEEDED", `the scheduler at ${this.address} did not answer within ${this.#timeoutMs} ms`, {
          reason: "schedule-timeout",
        });
        this.#error ??= error;
        this.cancel();
        return error;
      }
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }

  /** Half-closes the stream and waits (briefly) for the scheduler to end it. */
  async close(): Promise<void> {
    if (this.#ended) return;
    this.#call.end();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, 2000)));
    await Promise.race([this.#pump, timeout]);
    clearTimeout(timer);
    this.cancel();
  }

  cancel(): void {
    if (!this.#ended) this.#error ??= new DfError("CANCELLED", "the announce stream was closed", { reason: "session-closed" });
    this.#ended = true;
    this.#call.cancel();
    this.#wakeUp();
  }

  async #read(): Promise<void> {
    try {
      for await (const response of this.#call) {
        this.#answers.push(response);
        this.#wakeUp();
      }
    } catch (error) {
      this.#error ??= toDfError(error, "UNAVAILABLE");
    } finally {
      this.#ended = true;
      this.#wakeUp();
    }
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

function toAnswer(response: scheduler.AnnouncePeerResponse): ScheduleAnswer | undefined {
  const body = response.response;
  switch (body?.$case) {
    case "emptyTask":
      return { kind: "empty" };
    case "needBackToSource":
      return { kind: "back-to-source", reason: body.value.description || "the scheduler sent this peer to the source" };
    case "normalTask": {
      const parents = body.value.candidateParents.flatMap(toParent);
      if (parents.length > 0) return { kind: "parents", parents };
      return { kind: "no-answer", error: new DfError("INTERNAL", "the scheduler answered with parents that have no address") };
    }
    default:
      return undefined;
  }
}

function toParent(peer: common.Peer): ParentRef[] {
  const host = peer.host;
  if (!peer.id || !host?.ip || !host.port) return [];
  const holdsAll = peer.state === common.PeerState.SUCCEEDED;
  return [{ peerId: peer.id, hostId: host.id, ip: host.ip, port: host.port, downloadPort: host.downloadPort, ...(holdsAll ? { holdsAll } : {}) }];
}
