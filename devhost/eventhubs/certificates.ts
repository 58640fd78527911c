/**
 * A local certificate authority and a server certificate it signs for `localhost` and 127.0.0.1, made with
 * the openssl command line, so AMQPS clients can verify the endpoint against a CA file as they verify the
 * service against public roots (Python azure-eventhub: `connection_verify=<CA file>`).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configurationError } from "../../src/errors";

export interface LocalCertificates {
  /** The folder made for them: removed when the endpoint stops. */
  folder: string;
  /** Where the CA certificate is written: what a client trusts. */
  caFile: string;
  caPem: string;
  /** The server's certificate chain (leaf, then the CA) and key, as `tls.createServer` takes them. */
  serverCertificatePem: string;
  serverKeyPem: string;
}

/** Short-lived: every start makes new ones. */
const VALIDITY_IN_DAYS = "30";
const LEAF_EXTENSIONS = [
  "basicConstraints=critical,CA:FALSE",
  "keyUsage=critical,digitalSignature,keyEncipherment",
  "extendedKeyUsage=serverAuth",
  "subjectAltName=DNS:localhost,IP:127.0.0.1",
].join("\n");

function openssl(args: string[], where: string): void {
  try {
    execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString("utf8").trim();
    throw configurationError(`local Event Hubs TLS: openssl failed to ${where}: ${stderr || String(error)}`, {
      cause: error,
    });
  }
}

/**
 * Makes the CA and the server certificate (P-256 keys: fast to generate) in a fresh folder under
 * `directory` (default the system's temporary folder); the CA certificate stays there as `ca.pem`.
 */
export function createLocalCertificates(directory: string = tmpdir()): LocalCertificates {
  const folder = mkdtempSync(join(directory, "flowtap-eventhubs-tls-"));
  const path = (name: string): string => join(folder, name);
  const newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(
    ["req", "-x509", ...newKey, "-keyout", path("ca.key"), "-out", path("ca.pem"), "-days", VALIDITY_IN_DAYS]
      .concat(["-subj", "/CN=flowtap local Event Hubs CA", "-addext", "basicConstraints=critical,CA:TRUE"])
      .concat(["-addext", "keyUsage=critical,keyCertSign,cRLSign"]),
    "create the CA",
  );
  openssl(
    ["req", ...newKey, "-keyout", path("server.key"), "-out", path("server.csr"), "-subj", "/CN=localhost"],
    "create the server key",
  );
  writeFileSync(path("server.ext"), LEAF_EXTENSIONS);
  openssl(
    ["x509", "-req", "-in", path("server.csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key")]
      .concat(["-set_serial", `0x${Date.now().toString(16)}`, "-days", VALIDITY_IN_DAYS])
      .concat(["-extfile", path("server.ext"), "-out", path("server.pem")]),
    "sign the server certificate",
  );
  const caPem = readFileSync(path("ca.pem"), "utf8");
  const certificates: LocalCertificates = {
    folder,
    caFile: path("ca.pem"),
    caPem,
    serverCertificatePem: readFileSync(path("server.pem"), "utf8") + caPem,
    serverKeyPem: readFileSync(path("server.key"), "utf8"),
  };
  // Only the CA certificate is needed on disk (clients read it); the keys stay in memory.
  for (const name of ["ca.key", "server.key", "server.csr", "server.ext", "server.pem"]) rmSync(path(name));
  return certificates;
}

export function removeLocalCertificates(certificates: LocalCertificates): void {
  rmSync(certificates.folder, { recursive: true, force: true });
}
