import { useCallback, useEffect, useRef, useState } from "preact/hooks";

export interface Async<T> {
  data: T | undefined;
  error: Error | null;
  loading: boolean;
  reload(): void;
}

/** The result of `load`, run again when `deps` change or on `reload()`; a stale answer
 * (deps changed meanwhile) is dropped and its request aborted. */
export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): Async<T> {
  const [state, setState] = useState<{ data: T | undefined; error: Error | null; loading: boolean }>({
    data: undefined,
    error: null,
    loading: true,
  });
  const [generation, setGeneration] = useState(0);
  const loader = useRef(load);
  loader.current = load;
  useEffect(() => {
    const controller = new AbortController();
    setState((previous) => ({ ...previous, loading: true, error: null }));
    loader.current(controller.signal).then(
      (data) => controller.signal.aborted || setState({ data, error: null, loading: false }),
      (error: unknown) => {
        if (controller.signal.aborted) return;
        setState({ data: undefined, error: error instanceof Error ? error : new Error(String(error)), loading: false });
      },
    );
    return () => controller.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, generation]);
  const reload = useCallback(() => setGeneration((n) => n + 1), []);
  return { ...state, reload };
}

/** Cursor paging: the cursor of the current page and the way back. */
export function usePaging(reset: unknown[]): {
  cursor: string | null;
  page: number;
  next(cursor: string): void;
  previous(): void;
} {
  const [stack, setStack] = useState<(string | null)[]>([null]);
  const key = JSON.stringify(reset);
  const [seen, setSeen] = useState(key);
  if (seen !== key) {
    setSeen(key);
    setStack([null]);
  }
  return {
    cursor: stack.at(-1) ?? null,
    page: stack.length,
    next: (cursor) => setStack((previous) => [...previous, cursor]),
    previous: () => setStack((previous) => (previous.length > 1 ? previous.slice(0, -1) : previous)),
  };
}
