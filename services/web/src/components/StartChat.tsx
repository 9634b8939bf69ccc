import { useState } from "preact/hooks";
import type { TargetedSubmitEvent } from "preact";
import { isMemberId } from "../chat-id.js";

interface Props {
  onOpen: (other: string) => void;
}

/** Opens the chat with anyone by id, before either has written in it. */
export function StartChat({ onOpen }: Props) {
  const [other, setOther] = useState("");
  const [problem, setProblem] = useState<string | null>(null);

  const submit = (event: TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    const id = other.trim();
    if (!isMemberId(id)) {
      setProblem("Enter their id: 1 to 64 characters, without spaces or \":\".");
      return;
    }
    setProblem(null);
    setOther("");
    onOpen(id);
  };

  return (
    <form class="start-chat" onSubmit={submit} noValidate>
      <label class="field field--inline">
        <span class="field__label">Chat with</span>
        <input
          class="field__input"
          name="other"
          autoComplete="off"
          autoCapitalize="off"
          spellcheck={false}
          placeholder="their id"
          value={other}
          onInput={(event) => setOther(event.currentTarget.value)}
          aria-invalid={problem !== null}
        />
      </label>
      <button class="button" type="submit">
        Open chat
      </button>
      {problem !== null && (
        <p class="alert start-chat__problem" role="alert">
          {problem}
        </p>
      )}
    </form>
  );
}
