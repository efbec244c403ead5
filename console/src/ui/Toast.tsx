import { useEffect, useState } from "preact/hooks";

const listeners = new Set<(message: string) => void>();

/** Announce an outcome (polite live region; also shown for a few seconds). */
export function toast(message: string): void {
  listeners.forEach((listener) => listener(message));
}

export function Toasts() {
  const [messages, setMessages] = useState<{ id: number; text: string }[]>([]);
  useEffect(() => {
    let next = 0;
    const listener = (text: string) => {
      const id = ++next;
      setMessages((previous) => [...previous.slice(-2), { id, text }]);
      setTimeout(() => setMessages((previous) => previous.filter((message) => message.id !== id)), 6000);
    };
    listeners.add(listener);
    return () => void listeners.delete(listener);
  }, []);
  return (
    <div class="toasts" role="status" aria-live="polite">
      {messages.map((message) => (
        <p key={message.id} class="toast">
          {message.text}
        </p>
      ))}
    </div>
  );
}
