/** Runs the conformance scripts of this folder with Debian's Python (/usr/bin/python3), asynchronously. */
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";

export const PYTHON = "/usr/bin/python3";

/** Why the Python tests cannot run here (naming the Debian package), or undefined when they can. */
export function missingPythonModule(module: string, debianPackage: string): string | undefined {
  const probe = spawnSync(PYTHON, ["-c", `import ${module}`], { encoding: "utf8" });
  if (probe.error) return `${PYTHON} is not installed (apt-get install ${debianPackage})`;
  if (probe.status !== 0) return `Python module '${module}' is missing: apt-get install ${debianPackage}`;
  return undefined;
}

/** Runs `script` with the request as its JSON argument; resolves with its JSON answer, rejects with its stderr. */
export function runPythonScript<T>(script: string, request: object, timeoutInMs = 90_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [join(__dirname, script), JSON.stringify(request)], {
      stdio: ["ignore", "pipe", "pipe"],
      timeout: timeoutInMs,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) {
        reject(new Error(`${script} exited with ${code}:\n${stderr.slice(-4000)}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as T);
      } catch {
        reject(new Error(`${script} printed no JSON answer:\n${stdout.slice(-2000)}\n${stderr.slice(-2000)}`));
      }
    });
  });
}
