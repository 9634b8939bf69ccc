import { useEffect, useState } from "preact/hooks";
import { fetchAuthMode } from "../api.js";
import { clearSession, loadSession, saveSession, type Session } from "../session.js";
import type { AuthMode } from "../types.js";
import { Messenger } from "./Messenger.js";
import { SignIn } from "./SignIn.js";

/** Signed out: the sign-in form the edge's auth mode calls for. Signed in: the messenger. */
export function App() {
  const [session, setSession] = useState<Session | null>(() => loadSession(sessionStorage));
  const [authMode, setAuthMode] = useState<AuthMode | null>(null);

  useEffect(() => {
    let current = true;
    void fetchAuthMode().then((mode) => current && setAuthMode(mode));
    return () => {
      current = false;
    };
  }, []);

  const signIn = (next: Session) => {
    saveSession(sessionStorage, next);
    setSession(next);
  };
  const signOut = () => {
    clearSession(sessionStorage);
    setSession(null);
  };

  if (session !== null) return <Messenger key={session.member} session={session} onSignOut={signOut} />;
  if (authMode === null) return <p class="splash">Loading…</p>;
  return <SignIn authMode={authMode} onSignIn={signIn} />;
}
