import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EventBatcher, packEvents, utf8SizeInBytes, type EncodedEvent } from "../../src/core/batching";
import { ValidationError } from "../../src/errors";

const event = (id: string, body: string): EncodedEvent => ({ id, body });
const textOf = (body: string | Uint8Array | undefined): string =>
  typeof body === "string" ? body : new TextDecoder().decode(body);

describe("EventBatcher", () => {
  it("completes a batch when the next event does not fit and flushes the rest", () => {
    // Prepare
    const batcher = new EventBatcher({ maxSizeInBytes: 10 });

    // Act
    const afterFirst = batcher.push(event("a", "1234"));
    const afterSecond = batcher.push(event("b", "12345"));
    const afterThird = batcher.push(event("c", "12"));
    const rest = batcher.flush();

    // Assess
    expect(afterFirst).toEqual([]);
    expect(afterSecond).toEqual([]);
    expect(afterThird.map((b) => b.events.map((e) => e.id))).toEqual([["a", "b"]]);
    expect(afterThird[0].sizeInBytes).toBe(9);
    expect(rest.map((b) => b.events.map((e) => e.id))).toEqual([["c"]]);
    expect(batcher.flush()).toEqual([]);
  });

  it("counts the per-message overhead for every event", () => {
    const batches = packEvents([event("a", "xx"), event("b", "xx"), event("c", "xx")], {
      maxSizeInBytes: 10,
      perMessageOverheadInBytes: 3,
    });

    expect(batches.map((b) => b.events.length)).toEqual([2, 1]);
    expect(batches[0].sizeInBytes).toBe(10);
  });

  it("counts UTF-8 bytes of string bodies and uses a given size when present", () => {
    const batches = packEvents([event("a", "é€😀"), { id: "b", body: "ignored", sizeInBytes: 1 }], {
      maxSizeInBytes: 10,
    });

    expect(utf8SizeInBytes("é€😀")).toBe(new TextEncoder().encode("é€😀").byteLength);
    expect(batches).toHaveLength(1);
    expect(batches[0].sizeInBytes).toBe(10);
  });

  it("packs events into one JSON array message per batch", () => {
    const batches = packEvents([event("a", '{"n":1}'), event("b", '{"n":2}'), event("c", '{"n":3}')], {
      maxSizeInBytes: 17,
      jsonArray: true,
    });

    expect(batches.map((b) => b.jsonArrayBody)).toEqual(['[{"n":1},{"n":2}]', '[{"n":3}]']);
    expect(batches.map((b) => b.sizeInBytes)).toEqual([17, 9]);
  });

  it("builds the JSON array as bytes when bodies are bytes", () => {
    const bytes = new TextEncoder().encode('{"n":2}');

    const [batch] = packEvents([event("a", '{"n":1}'), { id: "b", body: bytes }], { jsonArray: true });

    expect(batch.jsonArrayBody).toBeInstanceOf(Uint8Array);
    expect(JSON.parse(textOf(batch.jsonArrayBody))).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it("refuses an event bigger than the limit, naming it and its size", () => {
    const batcher = new EventBatcher({ maxSizeInBytes: 5 });

    expect(() => batcher.push(event("evt-42", "123456"))).toThrow(ValidationError);
    expect(() => batcher.push(event("evt-42", "123456"))).toThrow(/event evt-42 is 6 bytes/);
    expect(() => packEvents([event("arr", "12345")], { maxSizeInBytes: 5, jsonArray: true })).toThrow(
      /arr is 5 bytes \(7 with framing\)/,
    );
  });

  it("refuses bad options", () => {
    expect(() => new EventBatcher({ maxSizeInBytes: 0 })).toThrow(/maxSizeInBytes/);
    expect(() => new EventBatcher({ perMessageOverheadInBytes: -1 })).toThrow(/perMessageOverheadInBytes/);
  });

  it("keeps every batch under the limit, in order, dropping nothing", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: "binary", maxLength: 15 }), { maxLength: 60 }),
        fc.integer({ min: 110, max: 400 }),
        fc.integer({ min: 0, max: 8 }),
        fc.boolean(),
        (bodies, maxSizeInBytes, perMessageOverheadInBytes, jsonArray) => {
          const events = bodies.map((body, i) => event(`e${i}`, jsonArray ? JSON.stringify(body) : body));

          const batches = packEvents(events, { maxSizeInBytes, perMessageOverheadInBytes, jsonArray });

          expect(batches.flatMap((b) => b.events)).toEqual(events);
          const violations = batches.flatMap((batch, i) => {
            const bodyBytes = batch.events.reduce((sum, e) => sum + utf8SizeInBytes(e.body as string), 0);
            const arrayText = textOf(batch.jsonArrayBody);
            const expectedSize = jsonArray
              ? utf8SizeInBytes(arrayText) + perMessageOverheadInBytes
              : bodyBytes + batch.events.length * perMessageOverheadInBytes;
            const arrayIntact =
              !jsonArray ||
              JSON.stringify(JSON.parse(arrayText)) ===
                JSON.stringify(batch.events.map((e) => JSON.parse(e.body as string)));
            const ok =
              batch.events.length > 0 &&
              batch.sizeInBytes <= maxSizeInBytes &&
              batch.sizeInBytes === expectedSize &&
              arrayIntact;
            return ok ? [] : [{ batch: i, sizeInBytes: batch.sizeInBytes, expectedSize, arrayIntact }];
          });
          expect(violations).toEqual([]);
        },
      ),
      { numRuns: 100 },
    );
  });
});
