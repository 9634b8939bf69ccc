import { useState } from "preact/hooks";
import type { TargetedSubmitEvent } from "preact";
import { signInWithId, signInWithToken, type Session } from "../session.js";
import type { AuthMode } from "../types.js";

interface Props {
  authMode: AuthMode;
  onSignIn: (session: Session) => void;
}

/** With auth "none" a member id; with "jwt" a token, whose subject is the member. */
export function SignIn({ authMode, onSignIn }: Props) {
  const [value, setValue] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const withToken = authMode === "jwt";

  const submit = (event: TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    const result = withToken ? signInWithToken(value) : signInWithId(value);
    if ("problem" in result) setProblem(result.problem);
    else onSignIn(result.session);
  };

  return (
    <main class="sign-in">
      <form class="sign-in__card" onSubmit={submit} noValidate>
        <h1 class="sign-in__title">Chat</h1>
        <p class="sign-in__hint">{withToken ? "Paste the token you were given." : "Choose the id others reach you by."}</p>
        <label class="field">
          <span class="field__label">{withToken ? "Token" : "Your id"}</span>
          <input
            class="field__input"
            name={withToken ? "token" : "member"}
            type={withToken ? "password" : "text"}
            autoComplete={withToken ? "off" : "username"}
            autoCapitalize="off"
            spellcheck={false}
            value={value}
            onInput={(event) => setValue(event.currentTarget.value)}
            aria-invalid={problem !== null}
            required
            autoFocus
          />
        </label>
        {problem !== null && (
          <p class="alert" role="alert">
            {problem}
          </p>
        )}
        <button class="button button--primary" type="submit">
          Sign in
        </button>
      </form>
    </main>
  );
}
