import type { ShapedTask } from "@df/interface";
import { TaskShaper, type ShapedTaskState } from "@df/rate-limit";

/**
 * No per-task limit: tasks share the node's `totalRateLimit` (which the daemon enforces)
 * first come, first served. It only counts what they use, for metrics and as the
 * baseline the other shapers are measured against.
 */
export class PlainShaper extends TaskShaper {
  readonly name = "plain";

  protected admit(task: ShapedTask): ShapedTaskState {
    return { task, limiter: undefined, recorded: 0 };
  }
}
