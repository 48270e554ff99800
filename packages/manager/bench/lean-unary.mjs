// A lean unary gRPC caller for load: node:http2, requests encoded once, answers not
// decoded. grpc-js costs the bench client about as much CPU per call as the manager
// spends answering, and both share the machine's cores; this costs a fraction of it,
// so the figure is the manager's.
import { connect } from "node:http2";

/** One HTTP/2 connection to `host:port`; `call(path, frame)` resolves to the answer's length. */
export function leanChannel(address) {
  const session = connect(`http://${address}`);
  session.on("error", () => {});
  return {
    call(path, frame) {
      return new Promise((resolve, reject) => {
        // A deadline as df's clients set one: the server keeps a timer per call for it.
        const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers", "grpc-timeout": "30S" });
        let bytes = 0;
        // The status comes in trailers, or in the headers of an answer that is only that.
        const check = (headers) => {
          const status = Number(headers["grpc-status"] ?? 0);
          if (status !== 0) reject(new Error(`${path}: gRPC status ${status} ${headers["grpc-message"] ?? ""}`));
        };
        stream.on("response", check);
        stream.on("trailers", check);
        stream.on("data", (chunk) => (bytes += chunk.length));
        stream.on("error", reject);
        stream.on("close", () => resolve(bytes));
        stream.end(frame);
      });
    },
    close: () => session.close(),
  };
}

/** A protobuf message as a gRPC frame: uncompressed flag and big-endian length first. */
export function frame(message) {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}
