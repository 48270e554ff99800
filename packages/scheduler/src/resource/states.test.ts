import { hasErrorCode } from "@df/interface";
import { describe, expect, it } from "vitest";
import { StateMachine } from "./fsm.js";
import { peerTransitions, taskTransitions } from "./states.js";

const peer = () => new StateMachine("peer p1", "pending", peerTransitions);
const task = () => new StateMachine("task t1", "pending", taskTransitions);

describe("peer lifecycle", () => {
  it("goes pending → received → running → succeeded", () => {
    const fsm = peer();
    expect(fsm.fire("register-normal")).toBe("received-normal");
    expect(fsm.fire("download")).toBe("running");
    expect(fsm.fire("download-succeeded")).toBe("succeeded");
  });

  it("can go back to source from received or running, and succeed from there", () => {
    const fsm = peer();
    fsm.fire("register-small");
    fsm.fire("download-back-to-source");
    expect(fsm.fire("download-succeeded")).toBe("succeeded");
  });

  it("refuses transitions the table does not allow, naming the state", () => {
    const fsm = peer();
    let error: unknown;
    try {
      fsm.fire("download");
    } catch (e) {
      error = e;
    }
    expect(hasErrorCode(error, "FAILED_PRECONDITION", "invalid-state-transition")).toBe(true);
    expect((error as Error).message).toBe(
      "peer p1: cannot download while pending (allowed from received-empty, received-tiny, received-small, received-normal)",
    );
  });

  it("fails from anywhere but failed or left, and leaves from anywhere but left", () => {
    const fsm = peer();
    fsm.fire("register-normal");
    fsm.fire("download");
    fsm.fire("download-succeeded");
    expect(fsm.can("download-failed")).toBe(true);
    fsm.fire("download-failed");
    expect(fsm.can("download-failed")).toBe(false);
    fsm.fire("leave");
    expect(fsm.can("leave")).toBe(false);
  });

  it("records when the state changed", () => {
    let now = 1000;
    const fsm = new StateMachine("peer", "pending", peerTransitions, () => now);
    now = 2500;
    fsm.fire("register-tiny");
    expect(fsm.changedAt).toBe(2500);
  });
});

describe("task lifecycle", () => {
  it("runs again after success, failure or leave", () => {
    const fsm = task();
    fsm.fire("download");
    fsm.fire("download-succeeded");
    expect(fsm.fire("download")).toBe("running");
    fsm.fire("download-failed");
    expect(fsm.fire("download")).toBe("running");
    fsm.fire("leave");
    expect(fsm.fire("download")).toBe("running");
  });

  it("only fails while running", () => {
    const fsm = task();
    expect(fsm.can("download-failed")).toBe(false);
  });
});
