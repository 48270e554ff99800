/**
 * @df/rpc/lite: a gRPC server-streaming call over node:http2 for short-lived clients
 * (dfget), sharing @df/rpc's status table and error trailers but never loading grpc-js.
 */
export { serverStreamCall, UNREACHABLE, type ServerStreamCall } from "./server-stream.js";
