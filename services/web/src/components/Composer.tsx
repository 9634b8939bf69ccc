import { useState } from "preact/hooks";
import type { TargetedKeyboardEvent, TargetedSubmitEvent } from "preact";

interface Props {
  onSend: (text: string) => void;
}

/** The message field: Enter sends, Shift+Enter starts a new line. */
export function Composer({ onSend }: Props) {
  const [text, setText] = useState("");

  const send = () => {
    if (text.trim() === "") return;
    onSend(text);
    setText("");
  };
  const submit = (event: TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    send();
  };
  const keyDown = (event: TargetedKeyboardEvent<HTMLTextAreaElement>) => {
    // isComposing: Enter that ends an input-method composition is not a send.
    if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    send();
  };

  return (
    <form class="composer" onSubmit={submit}>
      <label class="composer__field">
        <span class="visually-hidden">Message</span>
        <textarea
          class="composer__input"
          name="message"
          rows={1}
          placeholder="Write a message"
          value={text}
          onInput={(event) => setText(event.currentTarget.value)}
          onKeyDown={keyDown}
        />
      </label>
      <button class="button button--primary composer__send" type="submit">
        Send
      </button>
    </form>
  );
}
