import { statSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { join, resolve, sep } from "node:path";
import { send } from "@koa/send";
import type { Logger } from "@chat/runtime";
import type { Context } from "koa";
import type { Middleware } from "../http/middleware.js";
import type { WebConfig } from "./config.js";

/** The page's own policy: scripts, styles and calls from this origin only, nothing inline, never framed. */
export const pageContentSecurityPolicy =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** Files under assets/ carry a content hash in their name: a new build is a new name. */
const hashedFileCaching = "public, max-age=31536000, immutable";
/** index.html (and any other unhashed file) names the current build's assets: revalidated on every load. */
const unhashedFileCaching = "no-cache";

/** Paths the API, the probes and metrics own: never a file, never the page, whatever the router answers. */
function ownedByApi(path: string): boolean {
  const lower = path.toLowerCase().replace(/\/+$/, "");
  return lower === "/api" || lower.startsWith("/api/") || ["/ping", "/healthz", "/readyz", "/metrics"].includes(lower);
}

/**
 * A path the page's own router may answer: not a hashed file, and nothing a traversal or a
 * dotfile could hide behind (dot segments, encoded separators, NUL, bad percent-encoding).
 */
function isClientRoute(path: string): boolean {
  if (path.startsWith("/assets/") || /%2f|%5c/i.test(path)) return false;
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return false;
  }
  return !/[\\\0]/.test(decoded) && decoded.split("/").every((segment) => !segment.startsWith("."));
}

/** A browser navigating: it names text/html itself (a script or fetch accepts only *\/*). */
function wantsPage(ctx: Context): boolean {
  return (ctx.accepts() as string[]).includes("text/html");
}

/** The headers of everything the page is made of; the API's stricter ones stay on the API. */
function fileHeaders(assets: string) {
  return (res: ServerResponse, path: string): void => {
    res.setHeader("cache-control", path.startsWith(assets) ? hashedFileCaching : unhashedFileCaching);
    res.setHeader("content-security-policy", pageContentSecurityPolicy);
    res.setHeader("x-content-type-options", "nosniff");
    res.setHeader("referrer-policy", "no-referrer");
  };
}

/**
 * Sends `path` from `root` when it names a file there; false (nothing set) when it does not:
 * missing, a directory, a dotfile, or a path that would leave root (@koa/send refuses those).
 */
async function sendFile(ctx: Context, path: string, root: string, assets: string): Promise<boolean> {
  try {
    // No precompressed variants: Vite writes none, and @koa/send would serve them without Vary.
    const options = { root, index: false, hidden: false, gzip: false, brotli: false, setHeaders: fileHeaders(assets) } as const;
    if ((await send(ctx, path, options)) === undefined) return false;
  } catch (error) {
    const status = (error as { status?: unknown } | null)?.status;
    if (typeof status === "number" && status >= 400 && status < 500) return false;
    throw error;
  }
  // A revalidation of an unchanged file (If-Modified-Since): 304, and the file is not read.
  if (ctx.fresh) ctx.status = 304;
  return true;
}

/**
 * The web client: GET and HEAD of files under `root`, and index.html for a browser navigating
 * to a client route. It runs after the API's router and only where that matched nothing, so no
 * route, probe, rate limit or in-flight slot changes; whatever it does not serve stays a 404.
 */
function serveWebClient(root: string): Middleware {
  const assets = join(root, "assets") + sep;
  return async (ctx, next) => {
    if ((ctx.method !== "GET" && ctx.method !== "HEAD") || ownedByApi(ctx.path)) return next();
    if (ctx.status !== 404 || ctx.body !== undefined) return next();
    const served =
      (await sendFile(ctx, ctx.path === "/" ? "/index.html" : ctx.path, root, assets)) ||
      (isClientRoute(ctx.path) && wantsPage(ctx) && (await sendFile(ctx, "/index.html", root, assets)));
    if (served) ctx.state.route = "web client";
    else await next();
  };
}

/**
 * The web client's middleware as configured, or undefined for none: WEB_UI=false, or no
 * index.html in WEB_ROOT (warned once here; the API works without the page).
 */
export function webClient(config: WebConfig, logger: Logger): Middleware | undefined {
  if (!config.enabled) {
    logger.info("web client: off (WEB_UI=false)");
    return undefined;
  }
  const root = resolve(config.root);
  if (!statSync(join(root, "index.html"), { throwIfNoEntry: false })?.isFile()) {
    logger.warn({ root }, "web client: no index.html in WEB_ROOT; serving no page (build it with npm run build -w services/web)");
    return undefined;
  }
  logger.info({ root }, "web client: serving");
  return serveWebClient(root);
}
