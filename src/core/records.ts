/**
 * Flow-log record splitting: turns the bytes of a PT1H.json blob (whole, in chunks, or a byte range
 * of consecutive record blocks) into the text of each top-level record, without ever holding more
 * than one record plus one chunk in memory.
 *
 * Accepted shapes: `{"records":[...]}` (also nested inside `records`, as one docs sample has), bare
 * records, NDJSON of records, and block fragments (`,{record}` with an optional UTF-8 BOM and
 * whitespace). Broken input (truncated, unclosed, stray text, trailing commas) gives issues while
 * every complete record is still returned.
 */

/** A problem in the input. Returned as data next to the events; `message` names where it is. */
export interface FlowLogIssue {
  /** FlowLogFormatError-compatible message naming the record, tuple and byte where known. */
  message: string;
  /** 0-based ordinal of the record among the blob's records, when the issue is in one. */
  recordIndex: number | null;
  /** 0-based ordinal of the tuple within its record, when the issue is in one. */
  tupleIndex: number | null;
  /** Offset in the blob (or input) where the problem starts, when known. */
  byteOffset: number | null;
}

/** One top-level record's JSON text. */
export interface RecordText {
  recordIndex: number;
  /** Offset of the record's `{` in the blob (or input). */
  byteOffset: number;
  text: string;
}

export interface SplitResult {
  records: RecordText[];
  issues: FlowLogIssue[];
}

export interface RecordSplitterOptions {
  /** Record index of the first record in the input (default 0): a block range starting at record R passes R. */
  firstRecordIndex?: number;
  /** Blob offset of the input's first byte (default 0), so that issues name blob offsets. */
  startOffsetInBytes?: number;
  /**
   * The input is a range of whole committed blocks of a blob (it may start with the 12-byte head
   * `{"records":[` and need not end with the `]}` tail), so an array left open at the end is no issue.
   */
  isBlockRange?: boolean;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const RECORDS_KEY = Buffer.from("records", "latin1");

/** Where the first-key probe of a record stands: deciding whether `{` opens a `{"records":[` envelope. */
const enum Probe {
  KeyStart,
  InKey,
  Colon,
  Bracket,
  Done,
}

/** What a `[` seen between records opened: an envelope's `records` array (closed by `]}`) or a bare array. */
interface Frame {
  envelope: boolean;
  awaitingBrace: boolean;
}

const isWhitespace = (b: number): boolean => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/**
 * Incremental record splitter: `push` chunks as they arrive, then `end`. Each call returns the
 * records completed so far. Record indices count every record, even ones that later fail to parse.
 */
export class FlowLogRecordSplitter {
  private nextRecordIndex: number;
  private offset: number;
  private readonly startOffset: number;
  private readonly isBlockRange: boolean;
  private readonly frames: Frame[] = [];
  // Record state.
  private depth = 0;
  private inString = false;
  private escaped = false;
  private probe = Probe.Done;
  private keyLength = 0;
  private keyMatches = false;
  private recordStart = 0;
  private recordParts: Uint8Array[] = [];
  // Text between records that is not a record (reported once per run).
  private inJunkString = false;
  private junkReported = false;

  constructor(options: RecordSplitterOptions = {}) {
    this.nextRecordIndex = options.firstRecordIndex ?? 0;
    this.offset = options.startOffsetInBytes ?? 0;
    this.startOffset = this.offset;
    this.isBlockRange = options.isBlockRange ?? false;
  }

  push(input: Uint8Array): SplitResult {
    // A Buffer's indexOf is a native byte search: strings (most of a record) are skipped with it.
    const chunk = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    const result: SplitResult = { records: [], issues: [] };
    const base = this.offset;
    let partStart = this.depth > 0 ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (this.depth > 0) {
        if (this.inString) {
          if (this.probe === Probe.InKey) {
            if (this.escaped) this.escaped = false;
            else if (b === BACKSLASH) this.escaped = true;
            else if (b === QUOTE) this.inString = false;
            this.probeKeyByte(b);
          } else {
            i = this.skipString(chunk, i) - 1;
          }
          continue;
        }
        if (this.probe !== Probe.Done && this.probeByte(b)) {
          // `{"records":[`: the object was an envelope, not a record.
          this.frames.push({ envelope: true, awaitingBrace: false });
          this.nextRecordIndex--;
          this.depth = 0;
          this.recordParts = [];
          partStart = -1;
          continue;
        }
        if (b === QUOTE) this.inString = true;
        else if (b === OPEN_BRACE || b === OPEN_BRACKET) this.depth++;
        else if ((b === CLOSE_BRACE || b === CLOSE_BRACKET) && --this.depth === 0) {
          result.records.push(this.finishRecord(chunk, partStart, i + 1));
          partStart = -1;
        }
        continue;
      }
      if (this.inJunkString) {
        if (this.escaped) this.escaped = false;
        else if (b === BACKSLASH) this.escaped = true;
        else if (b === QUOTE) this.inJunkString = false;
        continue;
      }
      if (isWhitespace(b) || b === COMMA) continue;
      if (b === OPEN_BRACE) {
        this.startRecord(base + i);
        partStart = i;
        continue;
      }
      const top = this.frames[this.frames.length - 1];
      if (b === OPEN_BRACKET) {
        this.frames.push({ envelope: false, awaitingBrace: false });
      } else if (b === CLOSE_BRACKET && top && !top.awaitingBrace) {
        if (top.envelope) top.awaitingBrace = true;
        else this.frames.pop();
      } else if (b === CLOSE_BRACE && top?.awaitingBrace) {
        this.frames.pop();
      } else if (base + i - this.startOffset < 3 && (b === 0xef || b === 0xbb || b === 0xbf)) {
        // UTF-8 byte order mark at the very start.
      } else {
        if (b === QUOTE) this.inJunkString = true;
        if (!this.junkReported) {
          this.junkReported = true;
          result.issues.push({
            message:
              `unexpected '${String.fromCharCode(b)}' at byte ${base + i} outside any record (not a flow-log ` +
              `record or records array)`,
            recordIndex: null,
            tupleIndex: null,
            byteOffset: base + i,
          });
        }
      }
    }
    if (this.depth > 0) this.recordParts.push(chunk.subarray(Math.max(partStart, 0)));
    this.offset = base + chunk.length;
    return result;
  }

  /**
   * Inside a string, from `start`: returns the index after its closing quote (and leaves the
   * string), or the chunk's length when the string goes on into the next chunk.
   */
  private skipString(chunk: Buffer, start: number): number {
    let from = start;
    if (this.escaped) {
      this.escaped = false;
      from++;
    }
    for (;;) {
      const quote = chunk.indexOf(QUOTE, from);
      const stop = quote < 0 ? chunk.length : quote;
      let backslashes = 0;
      while (stop - backslashes - 1 >= from && chunk[stop - backslashes - 1] === BACKSLASH) backslashes++;
      if (quote < 0) {
        this.escaped = backslashes % 2 === 1;
        return chunk.length;
      }
      if (backslashes % 2 === 0) {
        this.inString = false;
        return quote + 1;
      }
      from = quote + 1;
    }
  }

  /** Flushes: reports a record or records array the input ended inside. */
  end(): SplitResult {
    const issues: FlowLogIssue[] = [];
    if (this.depth > 0) {
      const recordIndex = this.nextRecordIndex - 1;
      issues.push({
        message: `record ${recordIndex} (at byte ${this.recordStart}) is truncated: the input ends inside it`,
        recordIndex,
        tupleIndex: null,
        byteOffset: this.recordStart,
      });
      this.depth = 0;
      this.recordParts = [];
    } else if (!this.isBlockRange && this.frames.some((frame) => frame.envelope || !frame.awaitingBrace)) {
      issues.push({
        message: `the records array is not closed: the input ends at byte ${this.offset} without ']}'`,
        recordIndex: null,
        tupleIndex: null,
        byteOffset: this.offset,
      });
    }
    this.frames.length = 0;
    return { records: [], issues };
  }

  private startRecord(byteOffset: number): void {
    this.depth = 1;
    this.inString = false;
    this.escaped = false;
    this.probe = Probe.KeyStart;
    this.recordStart = byteOffset;
    this.recordParts = [];
    this.junkReported = false;
    this.nextRecordIndex++;
  }

  private finishRecord(chunk: Uint8Array, partStart: number, end: number): RecordText {
    const tail = chunk.subarray(Math.max(partStart, 0), end);
    const bytes = this.recordParts.length === 0 ? tail : Buffer.concat([...this.recordParts, tail]);
    this.recordParts = [];
    const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return { recordIndex: this.nextRecordIndex - 1, byteOffset: this.recordStart, text: buffer.toString("utf8") };
  }

  /** Follows the first key outside strings; true when `"records"` `:` `[` completed. */
  private probeByte(b: number): boolean {
    if (isWhitespace(b)) return false;
    switch (this.probe) {
      case Probe.KeyStart:
        if (b === QUOTE) {
          this.probe = Probe.InKey;
          this.keyLength = 0;
          this.keyMatches = true;
        } else this.probe = Probe.Done;
        return false;
      case Probe.Colon:
        this.probe = b === COLON && this.keyMatches ? Probe.Bracket : Probe.Done;
        return false;
      case Probe.Bracket:
        this.probe = Probe.Done;
        return b === OPEN_BRACKET;
      default:
        this.probe = Probe.Done;
        return false;
    }
  }

  /** Called for each byte inside the first key's string, after the generic string tracking. */
  private probeKeyByte(b: number): void {
    if (!this.inString) {
      this.probe = Probe.Colon;
      this.keyMatches &&= this.keyLength === RECORDS_KEY.length;
      return;
    }
    this.keyMatches &&= b !== BACKSLASH && RECORDS_KEY[this.keyLength] === b;
    this.keyLength++;
  }
}

/** Splits a whole input at once (same code path as streaming). */
export function splitRecords(input: Uint8Array | string, options: RecordSplitterOptions = {}): SplitResult {
  const splitter = new FlowLogRecordSplitter(options);
  const bytes = typeof input === "string" ? Buffer.from(input, "utf8") : input;
  const first = splitter.push(bytes);
  const last = splitter.end();
  return { records: first.records, issues: [...first.issues, ...last.issues] };
}

export interface ParsedRecordJson {
  value: unknown;
  /** Set when the text needed repair (trailing commas) or could not be parsed. */
  issue: FlowLogIssue | null;
}

/**
 * JSON.parse of one record. Text that is not strict JSON only because of trailing commas (seen in a
 * published test file) is repaired and parsed, with an issue saying so.
 */
export function parseRecordJson(record: RecordText): ParsedRecordJson {
  try {
    return { value: JSON.parse(record.text) as unknown, issue: null };
  } catch (error) {
    const where = `record ${record.recordIndex} (at byte ${record.byteOffset})`;
    const strictError = error instanceof Error ? error.message : String(error);
    const repaired = removeTrailingCommas(record.text);
    const issue = (message: string): FlowLogIssue => ({
      message,
      recordIndex: record.recordIndex,
      tupleIndex: null,
      byteOffset: record.byteOffset,
    });
    if (repaired !== record.text) {
      try {
        const value = JSON.parse(repaired) as unknown;
        return { value, issue: issue(`${where} is not valid JSON (trailing comma); parsed without it`) };
      } catch {
        // Reported below with the original error.
      }
    }
    return { value: undefined, issue: issue(`${where} is not valid JSON: ${strictError}`) };
  }
}

/** Drops each `,` that is followed (after whitespace) by `]` or `}`, outside strings. */
function removeTrailingCommas(text: string): string {
  let out = "";
  let copiedUpTo = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === QUOTE) inString = true;
    else if (c === COMMA) {
      let next = i + 1;
      while (next < text.length && isWhitespace(text.charCodeAt(next))) next++;
      const after = text.charCodeAt(next);
      if (after === CLOSE_BRACKET || after === CLOSE_BRACE) {
        out += text.slice(copiedUpTo, i);
        copiedUpTo = i + 1;
      }
    }
  }
  return out + text.slice(copiedUpTo);
}
