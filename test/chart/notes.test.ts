import { describe, expect, it } from "vitest";
import { chartDir, helm } from "./helm.js";

/** NOTES.txt as `helm install` prints it (a client-side dry run needs no cluster). */
async function notes(...sets: string[]): Promise<string> {
  const args = ["install", "chat", chartDir, "--dry-run=client", "--namespace", "chat"];
  for (const set of sets) args.push("--set", set);
  const result = await helm(...args);
  expect(result.ok, result.stderr).toBe(true);
  return result.stdout.slice(result.stdout.indexOf("NOTES:"));
}

describe("NOTES.txt", () => {
  it("tells how to reach the API through a port-forward to the edge's Service, and how to test it", async () => {
    const text = await notes();
    expect(text).toContain("kubectl --namespace chat port-forward service/chat-edge 8080:80");
    expect(text).toContain("curl -X POST http://localhost:8080/api/send");
    expect(text).toContain("helm test chat --namespace chat");
  });

  it("warns loudly while authentication is off, and says what production needs", async () => {
    const text = await notes();
    expect(text).toContain("WARNING: authentication is OFF (auth.mode=none)");
    expect(text).toContain("in production set\nauth.mode=jwt");
  });

  const jwt = ["auth.mode=jwt", "auth.jwt.issuer=https://id.example.com", "auth.jwt.audience={chat-api}", "auth.jwt.jwksUrl=https://id.example.com/jwks"];

  it("shows requests with a bearer token, and no warning, with jwt", async () => {
    const text = await notes(...jwt);
    expect(text).not.toContain("WARNING");
    expect(text).toContain(`-H "Authorization: Bearer $TOKEN"`);
    expect(text).toContain("set tests.tokenSecret");
  });

  it("warns when jwt runs without the NetworkPolicy that makes the user header trustworthy", async () => {
    const text = await notes(...jwt, "networkPolicy.enabled=false");
    expect(text).toContain("WARNING: networkPolicy.enabled is false while auth.mode=jwt");
    expect(text).not.toContain("authentication is OFF");
  });

  it("gives the Ingress URL, https when TLS is configured", async () => {
    const text = await notes(
      "edge.ingress.enabled=true",
      "edge.ingress.hosts[0].host=chat.example.com",
      "edge.ingress.hosts[0].paths[0].path=/",
      "edge.ingress.hosts[0].paths[0].pathType=Prefix",
      "edge.ingress.tls[0].secretName=chat-tls",
      "edge.ingress.tls[0].hosts[0]=chat.example.com",
    );
    expect(text).toContain("https://chat.example.com/");
    expect(text).toContain("curl https://chat.example.com/ping");
    expect(text).not.toContain("port-forward");
  });
});
