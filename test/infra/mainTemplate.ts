/** infra/main.json and its example parameters, ready to evaluate as Resource Manager would deploy them. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TemplateContext, type Json } from "./armTemplate";

export const ROOT = join(__dirname, "../..");
export const readJson = (file: string) => JSON.parse(readFileSync(join(ROOT, file), "utf8")) as Record<string, Json>;
export const template = readJson("infra/main.json");
const example = readJson("infra/main.parameters.example.json");

/** The resource group deployed into. */
export const SCOPE = {
  subscriptionId: "00000000-0000-0000-0000-000000000001",
  resourceGroup: "rg-flowtap",
  location: "westeurope",
};

export type Resource = Record<string, Json> & { type: string; name: string };

/** The example parameters with `overrides`. */
export function deployment(overrides: Record<string, Json> = {}): TemplateContext {
  const parameters = Object.fromEntries(
    Object.entries(example.parameters as Record<string, { value: Json }>).map(([k, v]) => [k, v.value]),
  );
  return new TemplateContext(template as never, { ...parameters, ...overrides }, SCOPE);
}
