import type { Storage } from "@df/storage";
import type { Metrics } from "@df/telemetry";
import type { DownloadBandwidth } from "../bandwidth.js";
import type { ByteServerCuts } from "../upload/byte-server.js";

export type PieceOrigin = "back_to_source" | "remote_peer";
/**
 * Why a download went to the origin: the scheduler said so (a seed's first fetch, or no
 * parent found), no scheduler answered, the parents stalled, reschedules ran out.
 */
export type BackToSourceReason = "scheduler" | "no-scheduler" | "stalled" | "reschedules";
export type DownloadOutcome = "succeeded" | "failed" | "local";

/** The daemon's own counters, on its per-instance registry (df_daemon_*). */
export class DaemonMetrics {
  readonly #pieces;
  readonly #bytes;
  readonly #downloads;
  readonly #backToSource;
  readonly #backToPeers;
  readonly #duration;
  readonly #pieceFailures;

  constructor(readonly metrics: Metrics, running: () => number) {
    this.#pieces = metrics.counter("df_daemon_pieces_total", "Pieces stored, by where they came from", ["source"]);
    this.#bytes = metrics.counter("df_daemon_piece_bytes_total", "Bytes of pieces stored, by where they came from", ["source"]);
    this.#downloads = metrics.counter(
      "df_daemon_downloads_total",
      "Task downloads by outcome (local: served from this host's store without fetching)",
      ["outcome"],
    );
    this.#backToSource = metrics.counter("df_daemon_back_to_source_total", "Downloads that went to the origin, by why", ["reason"]);
    this.#backToPeers = metrics.counter("df_daemon_back_to_peers_total", "Downloads that went back from the origin to peers once peers could serve");
    this.#pieceFailures = metrics.counter("df_daemon_piece_failures_total", "Pieces that failed from a parent");
    this.#duration = metrics.histogram("df_daemon_download_duration_seconds", "Time from start to the last piece of a task download", {
      labelNames: ["outcome"],
      buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800],
    });
    metrics.gauge("df_daemon_running_downloads", "Task downloads in progress", [], (gauge) => gauge.set(running()));
  }

  /** Gauges read from the download bandwidth at every scrape. */
  watchBandwidth(bandwidth: DownloadBandwidth): void {
    this.metrics.gauge("df_daemon_download_bandwidth_bytes", "Bytes downloaded by all tasks during the last full second", [], (gauge) =>
      gauge.set(bandwidth.shaper.lastSecondUsage()),
    );
    this.metrics.gauge("df_daemon_download_rate_limit_bytes", "download.totalRateLimit, bytes per second", [], (gauge) =>
      gauge.set(bandwidth.totalRateLimit),
    );
  }

  /** How storage writes piece bytes, read at every scrape. */
  watchStorage(storage: Pick<Storage, "directIO" | "writtenBytes">): void {
    this.metrics.gauge("df_daemon_storage_direct_io", "1 while pieces are written with direct I/O (storage.directIO, and the file system takes it)", [], (gauge) =>
      gauge.set(storage.directIO ? 1 : 0),
    );
    this.metrics.counter("df_daemon_storage_written_bytes_total", "Piece bytes written since start, by path: with O_DIRECT (direct) or through the page cache (cached)", ["path"], (counter) => {
      const written = storage.writtenBytes();
      counter.reset();
      counter.inc({ path: "direct" }, written.direct);
      counter.inc({ path: "cached" }, written.cached);
    });
  }

  /** Pieces the byte server served, read at every scrape. */
  watchUploads(served: () => { held: number; arriving: number }): void {
    this.metrics.counter("df_daemon_upload_pieces_total", "Pieces served over the byte port, by whether they were held or still arriving here (cut-through)", ["state"], (counter) => {
      const now = served();
      counter.reset();
      counter.inc({ state: "held" }, now.held);
      counter.inc({ state: "arriving" }, now.arriving);
    });
  }

  /** Connections the byte server closed on a limit, read at every scrape. */
  watchUploadLimits(cuts: () => ByteServerCuts): void {
    this.metrics.counter(
      "df_daemon_upload_connections_cut_total",
      "Piece-byte connections closed because a limit bit: header_timeout (no whole request in time), idle_timeout (kept alive with no request), write_timeout (the reader took no bytes), per_address (over upload.connectionsPerAddress, closed at once)",
      ["limit"],
      (counter) => {
        const now = cuts();
        counter.reset();
        counter.inc({ limit: "header_timeout" }, now.headerTimeout);
        counter.inc({ limit: "idle_timeout" }, now.idleTimeout);
        counter.inc({ limit: "write_timeout" }, now.writeTimeout);
        counter.inc({ limit: "per_address" }, now.connectionsPerAddress);
      },
    );
  }

  piece(source: PieceOrigin, bytes: number): void {
    this.#pieces.inc({ source });
    this.#bytes.inc({ source }, bytes);
  }

  pieceFailed(): void {
    this.#pieceFailures.inc();
  }

  backToSource(reason: BackToSourceReason): void {
    this.#backToSource.inc({ reason });
  }

  backToPeers(): void {
    this.#backToPeers.inc();
  }

  download(outcome: DownloadOutcome, seconds?: number): void {
    this.#downloads.inc({ outcome });
    if (seconds !== undefined) this.#duration.observe({ outcome }, seconds);
  }
}
