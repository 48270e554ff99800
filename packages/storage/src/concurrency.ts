/**
 * Runs `fn` over `items` with at most `limit` calls in flight, keeping results in input
 * order. File-system work goes through libuv's small thread pool, so a few dozen
 * outstanding operations keep it busy; thousands would only queue and hold memory.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
