import { describe, expect, it } from "vitest";
import { FlowtapError } from "../../../src/errors";
import { DEFAULT_RULES, loadRules, sensitivePortsOf, validateRules } from "../../../src/core/anomaly/rules";

const validRule = {
  id: "scan",
  kind: "portScan",
  thresholds: { distinctPorts: 10 },
  windowInMinutes: 5,
  cooldownInMinutes: 30,
};

function errorOf(config: unknown): string {
  try {
    validateRules(config);
  } catch (error) {
    expect(error).toBeInstanceOf(FlowtapError);
    expect(error).toMatchObject({ code: "Configuration" });
    return (error as Error).message;
  }
  throw new Error("expected a Configuration error");
}

describe("anomaly rule configuration", () => {
  it("gives the default rule set when nothing is configured", () => {
    // Act
    const rules = loadRules(undefined, "FLOWTAP_ANOMALY_RULES");
    // Assess
    expect(rules.map((rule) => rule.kind).sort()).toEqual(["bruteForce", "deniedFlood", "egressBytes", "portScan"]);
    expect(rules.find((rule) => rule.kind === "bruteForce")?.ports).toEqual([22, 3389]);
    expect(loadRules("  ", "setting")).toEqual(DEFAULT_RULES);
  });

  it("validates and fills defaults (capture off, severity by kind, sensitive ports)", () => {
    // Prepare
    const text = JSON.stringify({
      rules: [
        validRule,
        {
          id: "bf",
          kind: "bruteForce",
          thresholds: { allowedFlows: 3 },
          windowInMinutes: 2,
          cooldownInMinutes: 10,
          capture: true,
          scope: { cidrs: ["10.0.0.0/24"] },
        },
      ],
    });
    // Act
    const rules = loadRules(text, "rules.json");
    // Assess
    expect(rules[0]).toMatchObject({ id: "scan", capture: false, severity: 2 });
    expect(rules[1]).toMatchObject({
      ports: [22, 3389],
      capture: true,
      severity: 1,
      scope: { cidrs: ["10.0.0.0/24"] },
    });
    expect(sensitivePortsOf(rules)).toEqual([22, 3389]);
  });

  it.each([
    [
      { rules: [validRule, { ...validRule, id: "b", thresholds: { distinctPorts: 0 } }] },
      "rules[1].thresholds.distinctPorts must be a positive integer",
    ],
    [
      { rules: [{ ...validRule, thresholds: { distinctPorts: 2.5 } }] },
      "rules[0].thresholds.distinctPorts must be a positive integer",
    ],
    [
      { rules: [{ ...validRule, thresholds: { deniedFlows: 5 } }] },
      "rules[0].thresholds.deniedFlows is not a known setting",
    ],
    [
      { rules: [{ ...validRule, kind: "portscan" }] },
      'rules[0].kind must be one of deniedFlood, portScan, bruteForce, egressBytes (got "portscan")',
    ],
    [{ rules: [{ ...validRule, windowInMinutes: 61 }] }, "rules[0].windowInMinutes must be at most 60"],
    [{ rules: [{ ...validRule, windowInMinute: 5 }] }, "rules[0].windowInMinute is not a known setting"],
    [{ rules: [{ ...validRule, cooldownInMinutes: "30" }] }, "rules[0].cooldownInMinutes must be a positive integer"],
    [{ rules: [{ ...validRule, id: "" }] }, "rules[0].id must be a non-empty string"],
    [{ rules: [validRule, validRule] }, 'rules[1].id duplicates an earlier rule id "scan"'],
    [
      { rules: [{ ...validRule, scope: { cidrs: ["10.0.0.0/40"] } }] },
      "rules[0].scope.cidrs[0] must be an IP address or CIDR block",
    ],
    [{ rules: [{ ...validRule, scope: { nsgNames: "nsg1" } }] }, "rules[0].scope.nsgNames must be an array"],
    [{ rules: [{ ...validRule, ports: [22] }] }, "rules[0].ports applies only to kind bruteForce"],
    [
      { rules: [{ ...validRule, kind: "bruteForce", thresholds: { allowedFlows: 1 }, ports: [70000] }] },
      "rules[0].ports[0] must be at most 65535",
    ],
    [{ rules: [{ ...validRule, severity: 5 }] }, "rules[0].severity must be 0, 1, 2, 3 or 4"],
    [{ rules: [{ ...validRule, capture: "yes" }] }, "rules[0].capture must be true or false"],
    [
      { rules: [{ ...validRule, captureDurationInSeconds: 20000 }] },
      "rules[0].captureDurationInSeconds must be at most 18000",
    ],
    [{ rules: {} }, "rules must be an array"],
    [[validRule], "anomaly rules must be an object"],
  ])("refuses %j naming the path", (config, message) => {
    // Act
    const actual = errorOf(config);
    // Assess
    expect(actual.startsWith(message)).toBe(true);
  });

  it("names the setting when the JSON itself is broken", () => {
    expect(() => loadRules("{rules:", "FLOWTAP_ANOMALY_RULES")).toThrow(/^FLOWTAP_ANOMALY_RULES is not valid JSON/);
    expect(() => loadRules('{"rules":[{}]}', "FLOWTAP_ANOMALY_RULES")).toThrow(
      "FLOWTAP_ANOMALY_RULES: rules[0].id must be a non-empty string",
    );
  });
});
