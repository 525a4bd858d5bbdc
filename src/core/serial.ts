/**
 * A queue that runs tasks one after another: each starts once the previous one has settled,
 * whether it succeeded or not. Used wherever two callers (the file watcher and the admin API, two
 * admin requests) may ask for the same change at once.
 */
export function serialQueue(): <T>(task: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return (task) => {
    const next = tail.then(task, task);
    tail = next.catch(() => undefined);
    return next;
  };
}
