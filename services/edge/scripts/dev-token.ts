// Prints a development JWT for the user named on the command line, signed with the same AUTH_*
// settings the edge reads, so the edge accepts it: `make token USER=alice` passes the settings
// `make run-auth` starts the edge with. Development only: production tokens come from your issuer.
import { ConfigError } from "@chat/runtime";
import { SignJWT } from "jose";
import { loadAuthConfig } from "../src/auth/config.js";

const lifetime = "1h";

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

const user = process.argv[2] ?? "";
if (user === "") fail("usage: dev-token.ts <user>, e.g. make token USER=alice");

let auth;
try {
  auth = loadAuthConfig(process.env);
} catch (error) {
  fail(error instanceof ConfigError ? error.message : String(error));
}
if (auth.mode !== "jwt" || auth.keys.kind !== "secret") {
  fail("dev-token.ts signs with a shared secret: set AUTH_MODE=jwt and AUTH_JWT_SECRET or AUTH_JWT_SECRET_FILE");
}

const token = await new SignJWT({})
  .setProtectedHeader({ alg: auth.algorithms[0] ?? "HS256", typ: "JWT" })
  .setIssuer(auth.issuer)
  .setAudience(auth.audience[0] ?? "")
  .setSubject(user)
  .setIssuedAt()
  .setExpirationTime(lifetime)
  .sign(auth.keys.secret);
process.stdout.write(`${token}\n`);
