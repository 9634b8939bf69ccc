import type { RepeatLimitedLog } from "@chat/runtime";
import type { Context, Next } from "koa";
import { ApiError, unavailable } from "../http/api-error.js";
import { KeysUnavailable, TokenRejected, type TokenVerifier } from "./verify-token.js";

const realm = 'Bearer realm="chat"';
// RFC 6750 §2.1: "Bearer" and a token68; the scheme name is case-insensitive.
const bearer = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

function unauthenticated(message: string, challenge: string): ApiError {
  return new ApiError(401, "unauthenticated", message, { "www-authenticate": challenge });
}

function invalidToken(description: string): ApiError {
  // RFC 6750 §3: error_description is quoted, so it must hold no '"' or '\'.
  const quoted = description.replace(/["\\]/g, "'");
  return unauthenticated(description, `${realm}, error="invalid_token", error_description="${quoted}"`);
}

function tokenOf(ctx: Context, queryParameter: string | undefined): string {
  const header = ctx.get("authorization");
  if (header !== "") {
    const token = bearer.exec(header)?.[1];
    if (token === undefined) throw invalidToken("the Authorization header must be: Bearer <token>");
    return token;
  }
  // RFC 6750 §2.3, for clients that cannot set headers (a browser's EventSource).
  const fromQuery = queryParameter === undefined ? [] : new URLSearchParams(ctx.querystring).getAll(queryParameter);
  if (fromQuery.length > 1) throw invalidToken(`send ${queryParameter} once`);
  if (fromQuery[0] !== undefined) return fromQuery[0];
  const also = queryParameter === undefined ? "" : ` (or ?${queryParameter}=<token>)`;
  throw unauthenticated(`this API needs a bearer token: send Authorization: Bearer <token>${also}`, realm);
}

/**
 * Requires a valid bearer token and puts its subject in `ctx.state.user`. A missing or bad
 * token is a 401 with a `WWW-Authenticate` challenge; signing keys that cannot be loaded
 * are a 503, so clients do not throw away good tokens because of our outage. With
 * `queryParameter`, the token may come in the query instead of the header.
 */
export function authenticate(verify: TokenVerifier, errorLog: RepeatLimitedLog, options: { readonly queryParameter?: string } = {}) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const token = tokenOf(ctx, options.queryParameter);
    try {
      ctx.state.user = await verify(token);
    } catch (error) {
      if (error instanceof TokenRejected) throw invalidToken(error.message);
      if (error instanceof KeysUnavailable) {
        errorLog.log("error", "token signing keys", { err: error.cause ?? error }, "token signing keys could not be loaded");
        throw unavailable("authentication is unavailable; retry shortly", 5);
      }
      throw error;
    }
    await next();
  };
}
