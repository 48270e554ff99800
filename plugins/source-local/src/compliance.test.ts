import { describeSourceCompliance } from "@df/compliance-tests";
import { createLocalSource } from "./index.js";
import { fileArea } from "./test-support/files.js";

describeSourceCompliance("local", async () => {
  const area = await fileArea();
  const client = createLocalSource({ roots: [area.dir] });
  return {
    client,
    publish: (relative, content) => area.write(relative, content),
    missing: async (relative) => area.url(relative),
    teardown: async () => {
      await area.remove();
    },
  };
});
