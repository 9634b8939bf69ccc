import { render } from "preact";

render(<main>Chat</main>, document.getElementById("app")!);
