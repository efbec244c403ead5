import { useEffect, useRef, useState } from "preact/hooks";
import { withStepUp } from "../api/client";
import { describeChallenge, type StepUpChallenge } from "../auth/challenge";
import { AuthError, type PreparedStepUp, prepareStepUp } from "../auth/session";
import { Dialog } from "./Dialog";
import { ProblemMessage } from "./Problem";

/** The person closed the prompt: the action did not run. */
export class StepUpCancelled extends Error {
  constructor() {
    super("cancelled");
  }
}

interface Request {
  challenge: StepUpChallenge;
  resolve: () => void;
  reject: (error: Error) => void;
}

let show: ((request: Request) => void) | null = null;

/** Ask the person to sign in again as `challenge` says (RFC 9470); resolves once they
 * did, rejects with {@link StepUpCancelled} when they decline. */
export function stepUp(challenge: StepUpChallenge): Promise<void> {
  return new Promise((resolve, reject) => {
    if (show === null) reject(new Error("no step-up prompt is mounted"));
    else show({ challenge, resolve, reject });
  });
}

/** Run `action`, stepping up once when the API asks for it, then retrying. */
export function protectedAction<T>(action: () => Promise<T>): Promise<T> {
  return withStepUp(action, stepUp);
}

/** The "confirm it's you" dialog; mounted once, shown on demand. */
export function StepUpPrompt() {
  const [request, setRequest] = useState<Request | null>(null);
  const [prepared, setPrepared] = useState<PreparedStepUp | null>(null);
  const [waiting, setWaiting] = useState(false);
  const [failure, setFailure] = useState<Error | null>(null);
  const button = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    show = (next) => {
      setRequest(next);
      setPrepared(null);
      setWaiting(false);
      setFailure(null);
      prepareStepUp(next.challenge).then(setPrepared, (error: unknown) => setFailure(error instanceof Error ? error : new Error(String(error))));
    };
    return () => {
      show = null;
    };
  }, []);
  useEffect(() => {
    if (prepared && !waiting) button.current?.focus();
  }, [prepared, waiting]);

  if (request === null) return null;
  const close = (error: Error) => {
    prepared?.cancel();
    setRequest(null);
    request.reject(error);
  };
  const start = () => {
    if (!prepared) return;
    setWaiting(true);
    setFailure(null);
    prepared.open().then(
      () => {
        setRequest(null);
        request.resolve();
      },
      (error: unknown) => {
        if (error instanceof AuthError && error.message === "cancelled") return;
        setWaiting(false);
        setFailure(error instanceof Error ? error : new Error(String(error)));
        prepareStepUp(request.challenge).then(setPrepared, () => undefined);
      },
    );
  };
  return (
    <Dialog title="Confirm it's you" onClose={() => close(new StepUpCancelled())}>
      <div class="step-up">
        <p>
          This action needs {describeChallenge(request.challenge)}. Sign in again in the window that opens; the action then
          runs.
        </p>
        <p role="status">{waiting ? "Waiting for you to sign in in the other window…" : ""}</p>
        {failure ? <ProblemMessage error={failure} /> : null}
        <div class="dialog-buttons">
          <button type="button" ref={button} onClick={start} disabled={!prepared || waiting}>
            Sign in again
          </button>
          <button type="button" class="secondary" onClick={() => close(new StepUpCancelled())}>
            Cancel
          </button>
        </div>
      </div>
    </Dialog>
  );
}
