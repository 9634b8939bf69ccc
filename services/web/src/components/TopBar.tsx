interface Props {
  member: string;
  live: boolean;
  onSignOut: () => void;
}

/** Who is signed in, whether new messages arrive live, and the way out. */
export function TopBar({ member, live, onSignOut }: Props) {
  return (
    <header class="top-bar">
      <span class="top-bar__brand">Chat</span>
      <p role="status" class={live ? "connection connection--live" : "connection"}>
        {live ? "Live" : "Reconnecting…"}
      </p>
      <span class="top-bar__member" title="Signed in as">
        {member}
      </span>
      <button class="button button--quiet" type="button" onClick={onSignOut}>
        Sign out
      </button>
    </header>
  );
}
