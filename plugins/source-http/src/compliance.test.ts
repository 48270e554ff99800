import { loopbackSource } from "./test-support/fixture.js";
import { describeSourceCompliance, startOriginServer } from "@df/compliance-tests";

describeSourceCompliance("http", async () => {
  const origin = await startOriginServer();
  const client = loopbackSource();
  return {
    client,
    publish: async (path, content, options) => origin.publish(path, content, { ranges: options?.ranges ?? true }),
    missing: async (path) => origin.url(path),
    teardown: async () => {
      await client.close();
      await origin.close();
    },
  };
});
