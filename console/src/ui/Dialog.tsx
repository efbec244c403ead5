import { type ComponentChildren, createContext, type HTMLInputTypeAttribute, type InputHTMLAttributes } from "preact";
import { useContext, useEffect, useId, useRef, useState } from "preact/hooks";
import { ApiError } from "../api/client";
import { ProblemMessage } from "./Problem";
import { protectedAction, StepUpCancelled } from "./StepUp";

/** The 422 messages of the last attempt, by field name, for the fields to show. */
const FieldErrors = createContext<Map<string, string>>(new Map());

/** A modal dialog (the native element: focus stays inside, Escape closes it, focus
 * goes back to where it was). */
export function Dialog({
  title,
  onClose,
  children,
  describedBy,
  locked,
}: {
  title: string;
  onClose: () => void;
  children: ComponentChildren;
  describedBy?: string;
  /** While true, Escape does not close it (a request is under way). */
  locked?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    ref.current?.showModal();
    return () => opener?.focus();
  }, []);
  const onCancel = (event: Event) => {
    event.preventDefault();
    if (!locked) onClose();
  };
  return (
    <dialog ref={ref} class="dialog" aria-labelledby={titleId} aria-describedby={describedBy} onCancel={onCancel}>
      <h2 id={titleId}>{title}</h2>
      {children}
    </dialog>
  );
}

type Phase = { kind: "confirm" } | { kind: "working" } | { kind: "failed"; error: Error };

/** An action behind a confirmation: its form fields (read with FormData), then the
 * request. A step-up challenge brings up the "confirm it's you" prompt over it; once
 * the person signed in again, the action is retried once. */
export function ActionDialog<T>({
  title,
  description,
  confirmLabel,
  destructive,
  children,
  run,
  onDone,
  onClose,
}: {
  title: string;
  description: ComponentChildren;
  confirmLabel: string;
  destructive?: boolean;
  children?: ComponentChildren;
  run: (form: FormData) => Promise<T>;
  onDone: (result: T) => void;
  onClose: () => void;
}) {
  const [phase, setPhase] = useState<Phase>({ kind: "confirm" });
  const descriptionId = useId();
  const form = useRef<HTMLFormElement>(null);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!form.current?.reportValidity()) return;
    const data = new FormData(form.current);
    setPhase({ kind: "working" });
    try {
      onDone(await protectedAction(() => run(data)));
    } catch (error) {
      if (error instanceof StepUpCancelled) setPhase({ kind: "confirm" });
      else setPhase({ kind: "failed", error: error instanceof Error ? error : new Error(String(error)) });
    }
  };

  const busy = phase.kind === "working";
  const fieldErrors = phase.kind === "failed" && phase.error instanceof ApiError ? phase.error.fieldErrors() : new Map<string, string>();
  return (
    <Dialog title={title} onClose={onClose} describedBy={descriptionId} locked={busy}>
      <form ref={form} onSubmit={submit}>
        <div id={descriptionId} class="dialog-description">
          {description}
        </div>
        <FieldErrors.Provider value={fieldErrors}>{children}</FieldErrors.Provider>
        {phase.kind === "failed" ? <ProblemMessage error={phase.error} /> : null}
        <div class="dialog-buttons">
          <button type="submit" class={destructive ? "danger" : undefined} disabled={busy} aria-busy={busy ? "true" : "false"}>
            {busy ? "Working…" : confirmLabel}
          </button>
          <button type="button" class="secondary" onClick={onClose} disabled={busy}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** A labelled input; its server-side error (422 `errors`) shown and announced. */
export function Field({
  name,
  label,
  hint,
  type,
  required,
  value,
  children,
  ...rest
}: {
  name: string;
  label: string;
  hint?: string;
  type?: HTMLInputTypeAttribute;
  required?: boolean;
  value?: string;
  children?: ComponentChildren;
  min?: string | number;
  max?: string | number;
  maxLength?: number;
  placeholder?: string;
  autoComplete?: string;
}) {
  const id = useId();
  const error = useContext(FieldErrors).get(name);
  const described = [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined;
  const control = children ? (
    <select id={id} name={name} required={required} aria-invalid={error ? "true" : undefined} aria-describedby={described}>
      {children}
    </select>
  ) : (
    <input
      {...({
        id,
        name,
        type: type ?? "text",
        required,
        value,
        "aria-invalid": error ? "true" : undefined,
        "aria-describedby": described,
        ...rest,
      } as InputHTMLAttributes)}
    />
  );
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {control}
      {hint ? (
        <p id={`${id}-hint`} class="hint">
          {hint}
        </p>
      ) : null}
      {error ? (
        <p id={`${id}-error`} class="field-error">
          {error}
        </p>
      ) : null}
    </div>
  );
}
