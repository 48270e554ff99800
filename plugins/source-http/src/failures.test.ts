import { type AddressInfo, createServer, type Socket } from "node:net";
import { expectContent, startOriginServer } from "@df/compliance-tests";
import { describe, expect, it } from "vitest";
import { expectDfError, readAll, uniquePath, useOrigin, loopbackSource } from "./test-support/fixture.js";

const { origin, client } = useOrigin({ headerTimeout: 300, bodyIdleTimeout: 300 });

describe("a body cut short", () => {
  it("is DATA_LOSS when the connection drops before the announced length", async () => {
    const url = origin().publish(uniquePath("cut"), { size: 1_000_000, seed: 1 }, { truncateAt: 300_000 });
    const response = await client().get({ url });
    const error = await expectDfError(readAll(response.body), "DATA_LOSS", "truncated");
    expect(error.details).toMatchObject({ expected: 1_000_000 });
    expect(error.details?.received).toBeLessThanOrEqual(300_000);
  });

  it("is DATA_LOSS for a ranged get", async () => {
    const url = origin().publish(uniquePath("cut-range"), { size: 1_000_000, seed: 1 }, { truncateAt: 1000 });
    const response = await client().get({ url, range: { start: 5000, length: 500_000 } });
    await expectDfError(readAll(response.body), "DATA_LOSS", "truncated");
  });

  it("is DATA_LOSS for a chunked body", async () => {
    const url = origin().publish(uniquePath("cut-chunked"), { size: 1_000_000, seed: 1 }, {
      truncateAt: 1000,
      contentLength: false,
    });
    const response = await client().get({ url });
    await expectDfError(readAll(response.body), "DATA_LOSS", "truncated");
  });
});

describe("timeouts", () => {
  it("an origin slower than headerTimeout is DEADLINE_EXCEEDED", async () => {
    const url = origin().publish(uniquePath("slow-headers"), { size: 10, seed: 1 }, { delayMs: 5000 });
    for (const call of [() => client().get({ url }), () => client().stat({ url })]) {
      const started = Date.now();
      await expectDfError(call(), "DEADLINE_EXCEEDED", "header-timeout");
      // undici's timers are coarse; what matters is that nobody waited for the origin.
      expect(Date.now() - started).toBeLessThan(4000);
    }
  });

  it("a body that stalls longer than bodyIdleTimeout is DEADLINE_EXCEEDED", async () => {
    const url = origin().publish(uniquePath("stall"), { size: 1_000_000, seed: 1 }, { stallAt: 1000 });
    const response = await client().get({ url });
    await expectDfError(readAll(response.body), "DEADLINE_EXCEEDED", "body-idle-timeout");
  });

  it("a request's timeoutMs bounds the whole get, body included", async () => {
    const patient = loopbackSource();
    try {
      const url = origin().publish(uniquePath("deadline"), { size: 1_000_000, seed: 1 }, { stallAt: 1000 });
      const response = await patient.get({ url, timeoutMs: 200 });
      const error = await expectDfError(readAll(response.body), "DEADLINE_EXCEEDED", "request-timeout");
      expect(error.message).toContain("200 ms");
      const slow = origin().publish(uniquePath("deadline-stat"), { size: 10, seed: 1 }, { delayMs: 2000 });
      await expectDfError(patient.stat({ url: slow, timeoutMs: 100 }), "DEADLINE_EXCEEDED", "request-timeout");
    } finally {
      await patient.close();
    }
  });

  it("a server that accepts but never answers is DEADLINE_EXCEEDED", async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`;
      await expectDfError(client().get({ url }), "DEADLINE_EXCEEDED", "header-timeout");
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe("connection failures", () => {
  it("a refused connection is UNAVAILABLE", async () => {
    const closed = await startOriginServer();
    const url = closed.url("/gone");
    await closed.close();
    const error = await expectDfError(client().get({ url }), "UNAVAILABLE", "connection");
    expect(error.details).toMatchObject({ errno: "ECONNREFUSED" });
  });

  it("stat retries a reset connection and succeeds", async () => {
    const path = uniquePath("flaky");
    const url = origin().publish(path, { size: 100, seed: 1 }, { fail: { times: 2 } });
    expect(await client().stat({ url })).toMatchObject({ contentLength: 100 });
    expect(origin().stats(path).requests).toBe(4);
  });

  it("stat gives up after statRetries", async () => {
    const strict = loopbackSource({ statRetries: 0 });
    try {
      const path = uniquePath("flaky-strict");
      const url = origin().publish(path, { size: 100, seed: 1 }, { fail: { times: 1 } });
      await expectDfError(strict.stat({ url }), "UNAVAILABLE", "connection");
      expect(origin().stats(path).requests).toBe(1);
    } finally {
      await strict.close();
    }
  });

  it("an abort during stat's retry pause is CANCELLED", async () => {
    const url = origin().publish(uniquePath("flaky-abort"), { size: 100, seed: 1 }, { fail: { times: 5 } });
    const controller = new AbortController();
    const pending = client().stat({ url }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expectDfError(pending, "CANCELLED");
  });

  it("an abort while waiting for headers is CANCELLED", async () => {
    const patient = loopbackSource();
    try {
      const url = origin().publish(uniquePath("abort-headers"), { size: 10, seed: 1 }, { delayMs: 5000 });
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error("caller gave up")), 50);
      const error = await expectDfError(patient.get({ url }, { signal: controller.signal }), "CANCELLED");
      expect((error.cause as Error).message).toBe("caller gave up");
    } finally {
      await patient.close();
    }
  });
});

describe("closing", () => {
  it("a get running when the client closes ends with CANCELLED; later calls fail", async () => {
    const closing = loopbackSource();
    const url = origin().publish(uniquePath("close"), { size: 64 * 1024 * 1024, seed: 1 });
    const response = await closing.get({ url });
    const iterator = response.body[Symbol.asyncIterator]();
    await iterator.next();
    await closing.close();
    await expectDfError(
      (async () => {
        for (let next = await iterator.next(); !next.done; next = await iterator.next());
      })(),
      "CANCELLED",
    );
    await expectDfError(closing.get({ url }), "FAILED_PRECONDITION", "closed");
    await closing.close();
  });

  it("connections are kept alive between requests", async () => {
    const content = { size: 1000, seed: 1 };
    const url = origin().publish(uniquePath("keepalive"), content);
    const before = origin().connections;
    for (let i = 0; i < 10; i++) await expectContent((await client().get({ url })).body, content);
    await client().stat({ url });
    // The pool may open a second connection for a request sent just before the previous
    // one's socket is back; what must not happen is a connection per request.
    expect(origin().connections - before).toBeLessThanOrEqual(2);
  });
});
