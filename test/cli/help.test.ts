/** `flowtap --help` and each command's `--help`: what a user reads before anything else. */
import { afterEach, describe, expect, it, vi } from "vitest";
import { COMMANDS, usage } from "../../cli/registry";

afterEach(() => vi.restoreAllMocks());

/** Runs a command with `--help`, capturing what it writes to stdout. */
async function helpOf(name: string): Promise<{ code: number; text: string }> {
  let text = "";
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    text += String(chunk);
    return true;
  });
  const code = await (await COMMANDS[name]!()).run(["--help"]);
  vi.restoreAllMocks();
  return { code, text };
}

/** Each option's description: its line and the indented lines that continue it. */
function optionBlocks(text: string): string[] {
  const blocks: string[] = [];
  for (const line of text.split("\n")) {
    if (/^ {2}--/.test(line)) blocks.push(line);
    else if (/^ {4,}\S/.test(line) && blocks.length > 0) blocks[blocks.length - 1] += ` ${line.trim()}`;
  }
  return blocks;
}

describe("flowtap --help", () => {
  it("lists every command with a one-line description", async () => {
    const text = await usage();

    for (const name of Object.keys(COMMANDS)) {
      const command = await COMMANDS[name]!();
      expect(text).toMatch(new RegExp(`^ {2}${name} +${command.summary.replace(/[()]/g, "\\$&")}$`, "m"));
      expect(command.summary).not.toContain("\n");
    }
  });

  it.each(Object.keys(COMMANDS))(
    "flowtap %s --help lists its options with their defaults and an example",
    async (name) => {
      const { code, text } = await helpOf(name);

      expect(code).toBe(0);
      expect(text).toMatch(new RegExp(`^usage: flowtap ${name}`));
      expect(text).toMatch(/^example: (npx flowtap|npm start)/m);
      const blocks = optionBlocks(text);
      expect(blocks.length).toBeGreaterThan(0);
      for (const block of blocks) expect(block, `${name}: ${block}`).toMatch(/default|required/);
    },
  );
});
