import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./ports.js";
import { waitFor } from "./wait.js";

const run = promisify(execFile);

/** A redis-server that wants a password or TLS, with redis-cli arguments that reach it. */
export interface SecureRedis {
  readonly port: number;
  /** Runs redis-cli with the arguments that log in (and speak TLS) to this server. */
  cli(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

export interface SecureRedisOptions {
  /** Extra redis-server arguments, e.g. ["--requirepass", "pw"]. */
  readonly args?: readonly string[];
  /** redis-cli arguments that get through, e.g. ["-a", "pw", "--no-auth-warning"]. */
  readonly cliArgs?: readonly string[];
  /** Serve TLS only, on the returned port, with these files. */
  readonly tls?: TlsFiles;
  readonly clusterEnabled?: boolean;
}

const clusterBusOffset = 10_000;

/** Starts redis-server on a free loopback port with the given security settings. */
export async function startSecureRedis(options: SecureRedisOptions = {}): Promise<SecureRedis> {
  const port = await freePort(options.clusterEnabled ? [clusterBusOffset] : []);
  const dir = mkdtempSync(join(tmpdir(), `chat-redis-secure-${port}-`));
  const listen = options.tls
    ? ["--port", "0", "--tls-port", String(port), "--tls-cert-file", options.tls.cert, "--tls-key-file", options.tls.key,
       "--tls-ca-cert-file", options.tls.ca, "--tls-auth-clients", "no"]
    : ["--port", String(port)];
  const cluster = options.clusterEnabled
    ? ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "1000",
       ...(options.tls ? ["--tls-cluster", "yes", "--tls-replication", "yes"] : [])]
    : [];
  const args = [...listen, "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no", ...cluster, ...(options.args ?? [])];
  const child = spawn("redis-server", args, { stdio: ["ignore", "ignore", "inherit"] });
  let exited = false;
  child.once("exit", () => (exited = true));
  const cliArgs = [...(options.tls ? ["--tls", "--cacert", options.tls.ca] : []), ...(options.cliArgs ?? [])];
  const cli = async (...command: string[]) => {
    const { stdout } = await run("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...cliArgs, ...command]);
    return stdout.trim();
  };
  await waitFor(`secured redis-server on port ${port}`, async () => {
    if (exited) throw new Error(`redis-server on port ${port} exited`);
    return (await cli("ping")) === "PONG";
  });
  return {
    port,
    cli,
    async stop() {
      if (!exited) {
        const gone = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGKILL");
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A throwaway CA and a server certificate for 127.0.0.1 it signed. */
export interface TlsFiles {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  /** A CA that signed nothing here: trusting it must not be enough. */
  readonly otherCa: string;
  remove(): void;
}

async function openssl(...args: string[]): Promise<void> {
  await run("openssl", args);
}

/** Makes TLS files with openssl; undefined when openssl is not installed. */
export async function makeTlsFiles(): Promise<TlsFiles | undefined> {
  try {
    await run("openssl", ["version"]);
  } catch {
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), "chat-tls-"));
  const path = (name: string) => join(dir, name);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  for (const name of ["ca", "other-ca"]) {
    await openssl("req", "-x509", ...ec, "-keyout", path(`${name}.key`), "-out", path(`${name}.crt`), "-days", "1",
      "-subj", `/CN=chat test ${name}`, "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=keyCertSign,cRLSign");
  }
  await openssl("req", ...ec, "-keyout", path("server.key"), "-out", path("server.csr"), "-subj", "/CN=127.0.0.1");
  writeFileSync(path("server.ext"), "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n");
  await openssl("x509", "-req", "-in", path("server.csr"), "-CA", path("ca.crt"), "-CAkey", path("ca.key"),
    "-CAcreateserial", "-out", path("server.crt"), "-days", "1", "-extfile", path("server.ext"));
  return {
    ca: path("ca.crt"),
    cert: path("server.crt"),
    key: path("server.key"),
    otherCa: path("other-ca.crt"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Whether this redis-server was built with TLS (Debian's is). */
export async function redisHasTls(): Promise<boolean> {
  const probe = spawn("redis-server", ["--port", "0", "--tls-port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  probe.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  probe.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  await new Promise((resolve) => probe.once("exit", resolve));
  return !/FATAL CONFIG FILE ERROR|Bad directive|not supported/i.test(output);
}
