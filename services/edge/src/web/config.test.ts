import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError } from "@chat/runtime";
import { describe, expect, it } from "vitest";
import { defaultWebRoot, loadWebConfig } from "./config.js";

describe("loadWebConfig", () => {
  it("serves the workspace's built client by default", () => {
    const webDist = join(fileURLToPath(new URL("../../../", import.meta.url)), "web", "dist");
    expect(defaultWebRoot.replace(/\/$/, "")).toBe(webDist);
    expect(loadWebConfig({})).toEqual({ enabled: true, root: defaultWebRoot });
    expect(loadWebConfig({ WEB_UI: "", WEB_ROOT: "" })).toEqual({ enabled: true, root: defaultWebRoot });
  });

  it("reads WEB_ROOT and WEB_UI=false", () => {
    expect(loadWebConfig({ WEB_UI: "false", WEB_ROOT: "/srv/chat-web" })).toEqual({ enabled: false, root: "/srv/chat-web" });
  });

  it("refuses a WEB_UI that is not true or false, naming it", () => {
    expect(() => loadWebConfig({ WEB_UI: "yes" })).toThrow(ConfigError);
    expect(() => loadWebConfig({ WEB_UI: "yes" })).toThrow(/WEB_UI="yes": must be one of true, false/);
  });
});
