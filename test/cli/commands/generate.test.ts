import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runGenerate, type CliIo } from "../../../cli/commands/generate";
import { parseBlobPath } from "../../../src/core/blobPath";

const NOW_MS = Date.parse("2026-11-22T12:34:56Z");
const tempDirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "flowtap-generate-"));
  tempDirs.push(dir);
  return dir;
}

function collectingIo(): CliIo & { out: string; err: string } {
  const io = {
    out: "",
    err: "",
    stdout: (text: string) => void (io.out += text),
    stderr: (text: string) => void (io.err += text),
  };
  return io;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join("/"))
    .sort();
}

afterEach(async () => {
  await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe("flowtap generate", () => {
  it("writes one PT1H.json per NIC and hour in container layout, and summarises what it wrote", async () => {
    // Prepare
    const out = await tempDir();
    const io = collectingIo();

    // Act
    const code = await runGenerate(
      ["--out", out, "--hours", "2", "--nics", "3", "--seed", "9", "--start", "2026-11-22T08:00:00Z"],
      io,
      NOW_MS,
    );

    // Assess
    expect(code).toBe(0);
    const files = await filesUnder(out);
    expect(files).toHaveLength(6);
    const parsed = files.map((file) => parseBlobPath(file));
    expect(parsed.filter((p) => p.kind === "nsg")).toHaveLength(4);
    expect(parsed.filter((p) => p.kind === "vnet")).toHaveLength(2);
    expect(new Set(parsed.map((p) => p.hour))).toEqual(
      new Set(["2026-11-22T08:00:00.000Z", "2026-11-22T09:00:00.000Z"]),
    );
    for (const p of parsed) expect(files).toContain(`${p.container}/${p.path}`);
    let records = 0;
    let tuples = 0;
    let bytes = 0;
    for (const file of files) {
      const text = await readFile(join(out, file), "utf8");
      expect(text.startsWith('{"records":[{"time":"')).toBe(true);
      expect(text.endsWith("}]}")).toBe(true);
      const document = JSON.parse(text) as { records: unknown[] };
      records += document.records.length;
      tuples += (text.match(/"\d{10}(\d{3})?,/g) ?? []).length;
      bytes += Buffer.byteLength(text);
    }
    expect(records).toBe(6 * 60);
    expect(io.out).toBe(
      `generated 6 blobs, ${records} records, ${tuples} tuples, ${bytes} bytes (3 NICs x 2 h from ` +
        `2026-11-22T08:00:00.000Z, seed 9) in ${out}\n`,
    );
    expect(io.err).toBe("");
  });

  it("writes the same bytes for the same options; --start defaults to the hours before the current one", async () => {
    // Prepare
    const [first, second] = [await tempDir(), await tempDir()];
    const args = ["--nics", "2", "--attack", "scan,bruteforce", "--attack", "egress"];

    // Act
    const codes = [
      await runGenerate(["--out", first, ...args], collectingIo(), NOW_MS),
      await runGenerate(["--out", second, ...args], collectingIo(), NOW_MS),
    ];

    // Assess
    expect(codes).toEqual([0, 0]);
    const files = await filesUnder(first);
    expect(await filesUnder(second)).toEqual(files);
    for (const file of files)
      expect(await readFile(join(second, file), "utf8")).toBe(await readFile(join(first, file), "utf8"));
    expect(files.every((file) => file.includes("/y=2026/m=11/d=22/h=11/m=00/"))).toBe(true);
  });

  it("places each attack on its NIC at minute 10 + 15 i and reports it", async () => {
    // Prepare
    const out = await tempDir();
    const io = collectingIo();

    // Act
    const code = await runGenerate(
      ["--out", out, "--nics", "2", "--attack=scan,egress", "--start=2026-11-22T10:00:00Z"],
      io,
      NOW_MS,
    );

    // Assess
    expect(code).toBe(0);
    expect(io.out).toMatch(
      new RegExp(
        [
          "; attacks: scan on [0-9A-F]{12} at 2026-11-22T10:10:00.000Z, ",
          "egress on [0-9A-F]{12} at 2026-11-22T10:25:00.000Z\\n$",
        ].join(""),
      ),
    );
    const [scanMac, egressMac] = [...io.out.matchAll(/on ([0-9A-F]{12})/g)].map((m) => m[1]);
    expect(scanMac).not.toBe(egressMac);
    const files = await filesUnder(out);
    const scanned = await readFile(
      join(
        out,
        files.find((f) => f.includes(`macAddress=${scanMac}`))!,
      ),
      "utf8",
    );
    expect(scanned).toContain(",45.155.205.233,");
  });

  it.each([
    [["--hours", "1"], /--out DIR is required/],
    [["--out"], /--out needs a value/],
    [["--out", "x", "--nics", "0"], /--nics must be an integer in \[1, 10000\], got '0'/],
    [["--out", "x", "--hours", "two"], /--hours must be an integer in \[1, 744\], got 'two'/],
    [["--out", "x", "--seed", "-1"], /--seed needs a value|--seed must be an integer/],
    [["--out", "x", "--tuples-per-minute", "1.5"], /--tuples-per-minute must be an integer/],
    [["--out", "x", "--attack", "scan,ddos"], /--attack must be one of scan, bruteforce, egress .*got 'ddos'/],
    [
      ["--out", "x", "--start", "2026-11-22T10:30:00Z"],
      /--start must be a whole UTC hour .*got '2026-11-22T10:30:00Z'/,
    ],
    [["--out", "x", "--start", "yesterday"], /--start must be a whole UTC hour/],
    [["--out", "x", "--attack", "scan,scan,scan,scan,scan"], /--attack: 5 attacks do not fit in 1 hour.*see --hours/],
    [["--out", "x", "--bogus"], /unknown option '--bogus'/],
  ])("rejects %j with exit 2 and a message naming the option", async (args, message) => {
    // Prepare
    const io = collectingIo();

    // Act
    const code = await runGenerate(args, io, NOW_MS);

    // Assess
    expect(code).toBe(2);
    expect(io.err).toMatch(message);
    expect(io.err).toContain("usage: flowtap generate");
    expect(io.out).toBe("");
  });

  it("prints its usage on --help", async () => {
    const io = collectingIo();
    expect(await runGenerate(["--help"], io, NOW_MS)).toBe(0);
    expect(io.out).toContain("--attack KIND");
  });
});
