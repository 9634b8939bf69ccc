import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

// No container engine runs here, so the images are checked for what a build would miss:
// every workspace package a service imports must be installed, built and copied into it.
const root = new URL("../../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");
const workspaces: Record<string, string> = { "@chat/proto": "packages/proto", "@chat/runtime": "packages/runtime", "@chat/streams": "packages/streams" };

describe.each(["edge", "message"])("the %s image", (service) => {
  const dockerfile = read(`services/${service}/Dockerfile`);
  const manifest = JSON.parse(read(`services/${service}/package.json`)) as { dependencies: Record<string, string> };
  const local = Object.keys(manifest.dependencies).filter((name) => name.startsWith("@chat/"));

  it("names every workspace package the service depends on", () => {
    expect(local.length).toBeGreaterThan(0);
    for (const name of local) expect(workspaces[name], `${name} is not a known workspace`).toBeDefined();
  });

  it("installs, builds and copies each of them", () => {
    for (const name of local) {
      const folder = workspaces[name]!;
      expect(dockerfile, `${folder}/package.json for npm ci`).toContain(`COPY ${folder}/package.json ${folder}/`);
      expect(dockerfile, `${folder}/dist in the final image`).toContain(`COPY --from=build /app/${folder}/dist/ ${folder}/dist/`);
    }
  });

  it("gives npm ci every workspace's package.json, as the lockfile lists them all", () => {
    const lock = JSON.parse(read("package-lock.json")) as { packages: Record<string, { link?: boolean }> };
    const folders = Object.keys(lock.packages).filter((path) => /^(packages|services)\/[^/]+$/.test(path));
    for (const folder of folders) expect(dockerfile, folder).toContain(`COPY ${folder}/package.json ${folder}/`);
  });
});
