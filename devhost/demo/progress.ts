/**
 * Console output of the demo and `flowtap run`: on a TTY a progress bar redrawn in place; anywhere
 * else (CI, a pipe, a file) plain lines without escape codes, one per step of progress.
 */

export interface ProgressWriter {
  /** A line of output (ends any progress bar being drawn). */
  line(text: string): void;
  /** `label [#####.....] done/total unit detail`; on a non-TTY a line only when `done` changed. */
  progress(label: string, done: number, total: number, detail?: string): void;
  /** Ends the progress bar being drawn (a no-op on a non-TTY). */
  done(): void;
}

export interface ProgressWriterOptions {
  write(text: string): void;
  isTty: boolean;
  /** Width of the bar in characters. Default 30. */
  barWidth?: number;
}

export function renderBar(done: number, total: number, width: number): string {
  const ratio = total > 0 ? Math.min(done / total, 1) : 0;
  const filled = Math.round(ratio * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}]`;
}

export function createProgressWriter(options: ProgressWriterOptions): ProgressWriter {
  const width = options.barWidth ?? 30;
  let drawing = false;
  let lastPlain: string | undefined;
  const end = (): void => {
    if (drawing) options.write("\n");
    drawing = false;
  };
  return {
    line(text) {
      end();
      options.write(`${text}\n`);
    },
    progress(label, done, total, detail) {
      const text = `${label} ${renderBar(done, total, width)} ${done}/${total}${detail ? ` ${detail}` : ""}`;
      if (options.isTty) {
        // \r back to the line start, \x1b[K clears what a longer previous line left.
        options.write(`\r${text}\x1b[K`);
        drawing = true;
        return;
      }
      const key = `${label} ${done}/${total}`;
      if (key === lastPlain) return;
      lastPlain = key;
      options.write(`${text}\n`);
    },
    done: end,
  };
}
