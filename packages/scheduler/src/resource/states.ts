import type { PeerState } from "@df/interface";
import type { Transitions } from "./fsm.js";

export type { PeerState };

const received = ["received-empty", "received-tiny", "received-small", "received-normal"] as const satisfies readonly PeerState[];
const allPeerStates: readonly PeerState[] = ["pending", ...received, "running", "back-to-source", "succeeded", "failed", "left"];

export type PeerEvent =
  | "register-empty"
  | "register-tiny"
  | "register-small"
  | "register-normal"
  | "download"
  | "download-back-to-source"
  | "download-succeeded"
  | "download-failed"
  | "leave";

/** The peer lifecycle of reference §4.5. */
export const peerTransitions: Transitions<PeerState, PeerEvent> = {
  "register-empty": { from: ["pending"], to: "received-empty" },
  "register-tiny": { from: ["pending"], to: "received-tiny" },
  "register-small": { from: ["pending"], to: "received-small" },
  "register-normal": { from: ["pending"], to: "received-normal" },
  download: { from: received, to: "running" },
  "download-back-to-source": { from: [...received, "running"], to: "back-to-source" },
  "download-succeeded": { from: [...received, "running", "back-to-source"], to: "succeeded" },
  "download-failed": { from: allPeerStates.filter((s) => s !== "left" && s !== "failed"), to: "failed" },
  leave: { from: allPeerStates.filter((s) => s !== "left"), to: "left" },
};

export type TaskState = "pending" | "running" | "succeeded" | "failed" | "left";
export type TaskEvent = "download" | "download-succeeded" | "download-failed" | "leave";

/** The task lifecycle of reference §4.5: a task runs again whenever a new peer asks for it. */
export const taskTransitions: Transitions<TaskState, TaskEvent> = {
  download: { from: ["pending", "succeeded", "failed", "left"], to: "running" },
  "download-succeeded": { from: ["left", "running", "failed"], to: "succeeded" },
  "download-failed": { from: ["running"], to: "failed" },
  leave: { from: ["pending", "running", "succeeded", "failed"], to: "left" },
};
