import { useState } from "preact/hooks";
import { toast } from "./Toast";

/** Copies `text` to the clipboard; says so. */
export function CopyButton({ text, label, className }: { text: string; label: string; className?: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
      toast(`${label}: copied to the clipboard.`);
      setTimeout(() => setCopied(false), 2000);
    } catch {
      toast("The browser did not allow copying: select the text and copy it yourself.");
    }
  };
  return (
    <button type="button" class={className ?? "secondary"} onClick={copy}>
      {copied ? "Copied" : label}
    </button>
  );
}
