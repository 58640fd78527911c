import { HttpRequest } from "@azure/functions";
import { describe, expect, it } from "vitest";
import { readJsonBody } from "../../src/triggers/httpBody";

const requestWith = (body: string): HttpRequest =>
  new HttpRequest({ method: "POST", url: "http://localhost/api/any", body: { string: body } });

describe("readJsonBody", () => {
  it("gives the parsed JSON of the body", async () => {
    // Act
    const body = await readJsonBody(requestWith('{"backfillId":"b1","containers":["a"]}'));

    // Assess
    expect(body).toEqual({ ok: true, value: { backfillId: "b1", containers: ["a"] } });
  });

  it("refuses a body that is not JSON, naming the body and why", async () => {
    // Act
    const body = await readJsonBody(requestWith("{not json"));

    // Assess
    expect(body.ok).toBe(false);
    expect(body.ok ? undefined : body.error).toMatch(/^body: not JSON \(.+\)$/);
  });

  it.each(["", "  \n"])("refuses an empty body %j unless the caller gives its value", async (text) => {
    // Act
    const refused = await readJsonBody(requestWith(text));
    const defaulted = await readJsonBody(requestWith(text), { whenEmpty: { reason: "operator reset" } });

    // Assess
    expect(refused.ok).toBe(false);
    expect(defaulted).toEqual({ ok: true, value: { reason: "operator reset" } });
  });

  it("parses a blank-padded body when an empty one has a value", async () => {
    // Act
    const body = await readJsonBody(requestWith(' {"reason":"bad deploy"} '), { whenEmpty: {} });

    // Assess
    expect(body).toEqual({ ok: true, value: { reason: "bad deploy" } });
  });
});
