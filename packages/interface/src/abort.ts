/** Every async API of df takes these, so that any download or call can be cancelled. */
export interface AbortOptions {
  signal?: AbortSignal;
}
