import { type ChannelOptions } from "@grpc/grpc-js";
import { MAX_MESSAGE_BYTES, MAX_REQUEST_BYTES } from "./limits.js";

export { MAX_MESSAGE_BYTES, MAX_REQUEST_BYTES } from "./limits.js";

/**
 * df calls hold streams open for a whole download (AnnouncePeer, SyncPieces) or for a
 * member's lifetime (KeepAlive); keepalive pings notice a vanished peer instead of
 * waiting on a half-open TCP connection forever.
 */
const KEEPALIVE = {
  "grpc.keepalive_time_ms": 30_000,
  "grpc.keepalive_timeout_ms": 10_000,
} as const;

/**
 * Channelz (grpc-js's introspection service, which df does not serve) keeps per-call
 * counters and traces on every channel and server: a cost on every call for nothing.
 */
const NO_CHANNELZ = { "grpc.enable_channelz": 0 } as const;

export const DEFAULT_CHANNEL_OPTIONS: Readonly<ChannelOptions> = {
  "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
  "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
  ...KEEPALIVE,
  ...NO_CHANNELZ,
};

export const DEFAULT_SERVER_OPTIONS: Readonly<ChannelOptions> = {
  "grpc.max_receive_message_length": MAX_REQUEST_BYTES,
  "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
  ...KEEPALIVE,
  ...NO_CHANNELZ,
};
