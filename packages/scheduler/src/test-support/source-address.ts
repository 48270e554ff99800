import net from "node:net";

/**
 * A TCP forwarder on 127.0.0.1 that reaches `target` from `sourceIp` (any 127.x.y.z on
 * Linux), so that one test process can call the scheduler as several caller addresses:
 * grpc-js has no option to pick a client's source address.
 */
export async function fromSource(target: { host: string; port: number }, sourceIp: string): Promise<{ address: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((inbound) => {
    const outbound = net.connect({ host: target.host, port: target.port, localAddress: sourceIp });
    // Nagle against delayed ACKs would add ~40 ms to small request/answer pairs.
    inbound.setNoDelay(true);
    outbound.setNoDelay(true);
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => {
        inbound.destroy();
        outbound.destroy();
      });
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
