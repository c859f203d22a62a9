// Starts a real Docket server for a test run and stops it: `docket serve
// --memory --port 0` (nothing on disk, a free port), optionally as a
// one-member replica set (for transactions). The binary comes from the
// `bin` option, else $DOCKET_BIN, else `docket` on PATH.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

/**
 * @param {{bin?: string, replicaSet?: string, args?: string[]}} [options]
 * @returns {Promise<{uri: string, port: number, stop: () => Promise<number>}>}
 *   `uri` connects any driver; `stop()` ends the server (SIGTERM) and
 *   resolves with its exit code (0 after a clean shutdown).
 */
export async function startDocket(options = {}) {
  const bin = options.bin ?? process.env.DOCKET_BIN ?? "docket";
  const args = ["serve", "--memory", "--port", "0", "--quiet"];
  if (options.replicaSet) args.push("--replica-set", options.replicaSet);
  args.push(...(options.args ?? []));
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1))));
  const port = await new Promise((resolve, reject) => {
    child.once("error", (e) => reject(new Error(`docket-server: cannot run ${bin}: ${e.message}`)));
    exited.then((code) => reject(new Error(`docket-server: ${bin} serve exited with ${code} before it was ready`)));
    const lines = createInterface({ input: child.stdout });
    lines.once("line", (line) => {
      const match = /port (\d+)/.exec(line);  // "docket: ready on mongodb://127.0.0.1:<port>/"
      if (match) resolve(Number(match[1]));
      else reject(new Error(`docket-server: unexpected first line from docket serve: ${line}`));
    });
  });
  const query = options.replicaSet ? `?replicaSet=${encodeURIComponent(options.replicaSet)}` : "";
  return {
    uri: `mongodb://127.0.0.1:${port}/${query}`,
    port,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}
