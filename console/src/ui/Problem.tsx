import { ApiError, NetworkError } from "../api/client";

/** A refusal as people can act on it: what happened, and the reference support needs. */
export function ProblemMessage({ error, retry }: { error: Error; retry?: () => void }) {
  const api = error instanceof ApiError ? error : null;
  const title = api ? (api.problem.title ?? `Request failed (${api.status})`) : error instanceof NetworkError ? "The API did not answer" : "Something went wrong";
  return (
    <div class="problem" role="alert">
      <p class="problem-title">{title}</p>
      {error.message && error.message !== title ? <p>{error.message}</p> : null}
      {api ? (
        <p class="problem-meta">
          Code <code>{api.code}</code>
          {api.requestId ? (
            <>
              {" "}· Reference for support: <code>{api.requestId}</code>
            </>
          ) : null}
        </p>
      ) : null}
      {retry ? (
        <button type="button" class="secondary" onClick={retry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}
