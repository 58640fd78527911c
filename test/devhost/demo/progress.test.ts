/** The demo's console output, with and without a terminal. */
import { describe, expect, it } from "vitest";
import { createProgressWriter } from "../../../devhost/demo/progress";

describe("createProgressWriter", () => {
  it("without a terminal writes plain lines, once per change, with no escape codes", () => {
    // Prepare
    let text = "";
    const writer = createProgressWriter({ write: (chunk) => void (text += chunk), isTty: false, barWidth: 4 });

    // Act
    writer.progress("live", 1, 2, "minutes");
    writer.progress("live", 1, 2, "minutes");
    writer.progress("live", 2, 2, "minutes");
    writer.done();
    writer.line("done");

    // Assess
    expect(text).toBe("live [##..] 1/2 minutes\nlive [####] 2/2 minutes\ndone\n");
  });

  it("on a terminal redraws one line in place and ends it before the next line", () => {
    // Prepare
    let text = "";
    const writer = createProgressWriter({ write: (chunk) => void (text += chunk), isTty: true, barWidth: 4 });

    // Act
    writer.progress("live", 1, 2);
    writer.progress("live", 2, 2);
    writer.line("done");

    // Assess
    expect(text).toBe("\rlive [##..] 1/2\x1b[K\rlive [####] 2/2\x1b[K\ndone\n");
  });
});
