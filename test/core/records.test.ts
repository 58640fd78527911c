import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FlowLogRecordSplitter, parseRecordJson, splitRecords, type RecordText } from "../../src/core";

const A = '{"time":"a","s":"x{[\\"}]"}';
const B = '{"time":"b","n":[1,{"k":"}"}]}';

const texts = (input: string | Uint8Array, firstRecordIndex?: number) => splitRecords(input, { firstRecordIndex });

describe("splitting records", () => {
  it("splits a {records:[...]} document, ignoring braces and quotes inside strings", () => {
    const result = texts(`{"records":[${A},${B}]}`);
    expect(result.records.map((record) => [record.recordIndex, record.text])).toEqual([
      [0, A],
      [1, B],
    ]);
    expect(result.issues).toEqual([]);
  });

  it("gives each record's byte offset in the input (UTF-8 bytes, not characters)", () => {
    const result = texts(`{"records":[{"é":"ü"},${B}]}`);
    expect(result.records.map((record) => record.byteOffset)).toEqual([12, 12 + Buffer.byteLength('{"é":"ü"}') + 1]);
  });

  it("accepts a bare record, NDJSON and whitespace around the envelope", () => {
    expect(texts(`\n${A}\n`).records.map((record) => record.text)).toEqual([A]);
    expect(texts(`${A}\n${B}\n`).records.map((record) => record.text)).toEqual([A, B]);
    expect(texts(` \t{ "records" :\n [ ${A} ] }\n\n`).records.map((record) => record.text)).toEqual([A]);
  });

  it("accepts a block fragment with a BOM and a leading comma", () => {
    const fragment = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`,${A},${B}`)]);
    const result = texts(fragment, 7);
    expect(result.records.map((record) => [record.recordIndex, record.text])).toEqual([
      [7, A],
      [8, B],
    ]);
    expect(result.issues).toEqual([]);
  });

  it("descends into a records array nested inside records", () => {
    const result = texts(`{"records":[${A},{"records":[${B},${A}]}]}`);
    expect(result.records.map((record) => record.text)).toEqual([A, B, A]);
    expect(result.issues).toEqual([]);
  });

  it("treats an object whose first key is records but not an array as a record", () => {
    const odd = '{"records":"not an array"}';
    expect(texts(odd).records.map((record) => record.text)).toEqual([odd]);
  });

  it("reports a truncated last record and keeps the complete ones", () => {
    const result = texts(`{"records":[${A},${B.slice(0, 10)}`);
    expect(result.records.map((record) => record.text)).toEqual([A]);
    expect(result.issues).toEqual([
      {
        message: `record 1 (at byte ${12 + A.length + 1}) is truncated: the input ends inside it`,
        recordIndex: 1,
        tupleIndex: null,
        byteOffset: 12 + A.length + 1,
      },
    ]);
  });

  it("reports an unclosed records array", () => {
    const result = texts(`{"records":[${A}`);
    expect(result.records).toHaveLength(1);
    expect(result.issues.map((issue) => issue.message)).toEqual([expect.stringMatching(/records array is not closed/)]);
  });

  it("reports stray text between records once, and goes on", () => {
    const result = texts(`{"records":[${A}, "records": [ ${B} ] ]}`);
    expect(result.records.map((record) => record.text)).toEqual([A, B]);
    expect(result.issues).toHaveLength(1);
    expect(result.issues[0]!.message).toMatch(/^unexpected '"' at byte \d+ outside any record/);
  });

  it("names blob offsets when the input starts inside the blob", () => {
    const splitter = new FlowLogRecordSplitter({ firstRecordIndex: 3, startOffsetInBytes: 1000 });
    const records = splitter.push(Buffer.from(`,${A}`)).records;
    expect(records[0]).toEqual({ recordIndex: 3, byteOffset: 1001, text: A });
    expect(splitter.push(Buffer.from("x")).issues[0]!.byteOffset).toBe(1000 + A.length + 1);
  });

  it("gives the same records for any chunking (escapes and multi-byte characters split across chunks)", () => {
    const doc = Buffer.from(`{"records":[${A},{"time":"ü\\\\","x":"\\"\\\\\\""},${B}]}`);
    const whole = texts(doc);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: doc.length - 1 }), { maxLength: 6 }), (cuts) => {
        const splitter = new FlowLogRecordSplitter();
        const records: RecordText[] = [];
        let from = 0;
        for (const cut of [...new Set(cuts)].sort((x, y) => x - y)) {
          records.push(...splitter.push(doc.subarray(from, cut)).records);
          from = cut;
        }
        records.push(...splitter.push(doc.subarray(from)).records, ...splitter.end().records);
        expect(records).toEqual(whole.records);
      }),
      { numRuns: 300 },
    );
    expect(whole.records.map((record) => JSON.parse(record.text) as unknown)).toHaveLength(3);
  });
});

describe("parseRecordJson", () => {
  const record = (text: string): RecordText => ({ recordIndex: 4, byteOffset: 99, text });

  it("parses strict JSON without an issue", () => {
    expect(parseRecordJson(record(A))).toEqual({ value: JSON.parse(A), issue: null });
  });

  it("repairs trailing commas outside strings, with an issue", () => {
    const parsed = parseRecordJson(record('{"a":["x,]",1,],"b":{"c":2,},}'));
    expect(parsed.value).toEqual({ a: ["x,]", 1], b: { c: 2 } });
    expect(parsed.issue).toEqual({
      message: "record 4 (at byte 99) is not valid JSON (trailing comma); parsed without it",
      recordIndex: 4,
      tupleIndex: null,
      byteOffset: 99,
    });
  });

  it("reports other invalid JSON with the parser's message", () => {
    const parsed = parseRecordJson(record('{"a":tru}'));
    expect(parsed.value).toBeUndefined();
    expect(parsed.issue?.message).toMatch(/^record 4 \(at byte 99\) is not valid JSON: /);
  });
});
