import { describe, expect, it } from "vitest";
import { common, createRpcClient, daemonUpload, serverStream } from "@df/rpc";
import { DEAD_SCHEDULER, download, startDaemon, startOrigin } from "../test-support/cluster.js";

describe("a daemon with the default sources", () => {
  it("refuses to fetch from a loopback origin, whether a local client or a remote caller asks", async () => {
    const origin = await startOrigin();
    const url = origin.publish("/internal.bin", Buffer.from("only this host's network reaches this"));
    const daemon = await startDaemon({ name: "ssrf", scheduler: DEAD_SCHEDULER, config: { sources: ["http"] } });

    await expect(download(daemon.addresses.socket, { url })).rejects.toMatchObject({
      code: "PERMISSION_DENIED",
      message: expect.stringMatching(/loopback address.*destinations\.allow/),
    });

    const client = createRpcClient(daemonUpload.DfdaemonUploadClient, daemon.addresses.upload);
    try {
      const stream = serverStream(client, "downloadTask", daemonUpload.DownloadTaskRequest.create({ download: common.Download.create({ url }) }));
      await expect((async () => { for await (const _ of stream); })()).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
    } finally {
      client.close();
    }
    expect(origin.stats("/internal.bin").requests).toBe(0);
  });
});
