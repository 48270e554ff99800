import { describe, expect, it } from "vitest";
import { DfError } from "@df/interface/errors";
import { UNREACHABLE } from "@df/rpc/lite";
import { explain } from "./explain.js";

const context = { url: "http://origin.example:8080/file.bin", endpoint: "/run/df/dfdaemon.sock", timeoutMs: 3000, viaDaemon: true };
const PATH = "/df.daemon.download.v1.DfdaemonDownload/DownloadTask";

describe("dfget's failure messages", () => {
  it("turns the call's own failures into what happened and what to do, without the RPC path", () => {
    const cases: Array<[DfError, RegExp]> = [
      [new DfError("DEADLINE_EXCEEDED", `${PATH}: deadline exceeded after 3000 ms`, { reason: "call-deadline" }), /did not finish within --timeout 3s; .*longer --timeout/],
      [new DfError("CANCELLED", `${PATH} was cancelled`, { reason: "call-cancelled" }), /^interrupted/],
      [new DfError("UNAVAILABLE", `${PATH}: the daemon ended the call without a status`, { reason: "call-no-status" }), /dfdaemon at \/run\/df\/dfdaemon\.sock stopped answering .*run dfget again/],
      [new DfError("UNAVAILABLE", "cannot reach /run/df/dfdaemon.sock: socket hang up", { reason: UNREACHABLE }), /stopped answering/],
    ];
    for (const [error, expected] of cases) {
      const message = explain(error, context);
      expect(message).toMatch(expected);
      expect(message).not.toContain("DownloadTask");
      expect(message).not.toMatch(/\d+ ms/);
    }
  });

  it("names the origin for the origin's failures, as the source client reports them through the daemon", () => {
    const attempt = { method: "HEAD", url: "http://origin.example:8080/file.bin" };
    const refused = new DfError("UNAVAILABLE", "HEAD http://origin.example:8080/file.bin: connect ECONNREFUSED 10.0.0.1:8080", {
      reason: "connection",
      details: { ...attempt, errno: "ECONNREFUSED" },
    });
    expect(explain(refused, context)).toBe("the origin origin.example:8080 refused the connection; check the URL and that the server is up");
    const missing = new DfError("NOT_FOUND", "GET http://origin.example:8080/file.bin: the origin answered 404", { reason: "http-404", details: { ...attempt, status: 404 } });
    expect(explain(missing, context)).toBe("the origin origin.example:8080 refused the download: the origin answered 404; check the URL");
    const slow = new DfError("DEADLINE_EXCEEDED", "GET http://origin.example:8080/file.bin: header timeout expired (x)", { reason: "header-timeout", details: attempt });
    expect(explain(slow, context)).toMatch(/^the origin origin\.example:8080 did not answer in time/);
  });

  it("leaves other errors as they are: they are already written for users", () => {
    const exists = new DfError("ALREADY_EXISTS", "/tmp/x already exists; pass --overwrite to replace it");
    expect(explain(exists, context)).toBe("/tmp/x already exists; pass --overwrite to replace it");
  });
});
