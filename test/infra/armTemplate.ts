/**
 * Evaluates the parts of an ARM template the infra tests read, as Azure Resource Manager would with given
 * parameters: `[...]` expressions (template functions per learn.microsoft.com/azure/azure-resource-manager/templates/
 * template-functions), parameter defaults, variables with `copy` loops, and nested deployments whose expressions
 * are evaluated in their own (inner) scope. Only the functions infra/main.json uses are known; any other one throws,
 * naming it, so a template change cannot be silently misread. `reference()` has no live resource to read: it yields
 * an object whose properties are `<reference ...>` placeholders.
 */
import { createHash } from "node:crypto";

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface Scope {
  subscriptionId: string;
  resourceGroup: string;
  location: string;
}

type Token = { kind: "string" | "number" | "name" | "punct"; text: string };

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (at < source.length) {
    const c = source[at]!;
    if (/\s/.test(c)) at++;
    else if (c === "'") {
      let text = "";
      at++;
      while (at < source.length && !(source[at] === "'" && source[at + 1] !== "'")) {
        text += source[at];
        at += source[at] === "'" ? 2 : 1;
      }
      tokens.push({ kind: "string", text });
      at++;
    } else if (/[0-9-]/.test(c)) {
      const number = /^-?\d+/.exec(source.slice(at))![0];
      tokens.push({ kind: "number", text: number });
      at += number.length;
    } else if (/[A-Za-z_]/.test(c)) {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(at))![0];
      tokens.push({ kind: "name", text: name });
      at += name.length;
    } else {
      tokens.push({ kind: "punct", text: c });
      at++;
    }
  }
  return tokens;
}

type Call = (name: string, args: Json[]) => Json;

/** Parses and evaluates one expression (the text between `[` and `]`). */
function evaluateExpression(source: string, call: Call): Json {
  const tokens = tokenize(source);
  let at = 0;
  const expect = (text: string) => {
    if (tokens[at]?.text !== text) throw new Error(`ARM expression '${source}': expected '${text}' at token ${at}`);
    at++;
  };
  const primary = (): Json => {
    const token = tokens[at++];
    if (!token) throw new Error(`ARM expression '${source}' ends early`);
    if (token.kind === "string") return token.text;
    if (token.kind === "number") return Number(token.text);
    if (token.kind !== "name") throw new Error(`ARM expression '${source}': unexpected '${token.text}'`);
    expect("(");
    const args: Json[] = [];
    while (tokens[at]?.text !== ")") {
      args.push(postfix());
      if (tokens[at]?.text === ",") at++;
    }
    expect(")");
    return call(token.text, args);
  };
  const postfix = (): Json => {
    let value = primary();
    for (;;) {
      if (tokens[at]?.text === ".") {
        at++;
        value = member(value, tokens[at++]!.text);
      } else if (tokens[at]?.text === "[") {
        at++;
        const index = postfix();
        expect("]");
        value = member(value, index);
      } else return value;
    }
  };
  const value = postfix();
  if (at !== tokens.length) throw new Error(`ARM expression '${source}': trailing tokens`);
  return value;
}

function member(value: Json, key: Json): Json {
  if (typeof value === "string" && value.startsWith("<reference")) return `${value}.${String(key)}`;
  if (Array.isArray(value) && typeof key === "number") return value[key]!;
  if (value !== null && typeof value === "object" && !Array.isArray(value) && typeof key === "string") {
    const found = Object.keys(value).find((k) => k.toLowerCase() === key.toLowerCase());
    if (found !== undefined) return value[found]!;
  }
  throw new Error(`ARM: no member ${JSON.stringify(key)} in ${JSON.stringify(value).slice(0, 80)}`);
}

const hashOf = (args: Json[]) => createHash("sha256").update(JSON.stringify(args)).digest("hex");

/** A template (or nested template) with its parameters bound, ready to evaluate its values. */
export class TemplateContext {
  private readonly variableCache = new Map<string, Json>();
  private readonly parameterValues: JsonObject = {};

  constructor(
    readonly template: JsonObject,
    parameterValues: JsonObject,
    readonly scope: Scope,
  ) {
    const declared = (template.parameters ?? {}) as Record<string, JsonObject>;
    for (const [name, declaration] of Object.entries(declared)) {
      if (name in parameterValues) this.parameterValues[name] = parameterValues[name]!;
      else if ("defaultValue" in declaration) this.parameterValues[name] = this.evaluate(declaration.defaultValue!);
      else throw new Error(`ARM: parameter '${name}' has no value and no default`);
    }
    const unknown = Object.keys(parameterValues).filter((name) => !(name in declared));
    if (unknown.length > 0) throw new Error(`ARM: the template declares no parameter ${unknown.join(", ")}`);
  }

  parameter(name: string): Json {
    if (!(name in this.parameterValues)) throw new Error(`ARM: unknown parameter '${name}'`);
    return this.parameterValues[name]!;
  }

  variable(name: string): Json {
    if (!this.variableCache.has(name)) this.variableCache.set(name, this.computeVariable(name));
    return this.variableCache.get(name)!;
  }

  private computeVariable(name: string): Json {
    const variables = (this.template.variables ?? {}) as JsonObject;
    const loop = ((variables.copy ?? []) as JsonObject[]).find((c) => c.name === name);
    if (loop) {
      const count = this.evaluate(loop.count!) as number;
      return Array.from({ length: count }, (_, index) => this.evaluate(loop.input!, { [name]: index }));
    }
    if (!(name in variables)) throw new Error(`ARM: unknown variable '${name}'`);
    return this.evaluate(variables[name]!);
  }

  /** Evaluates every expression inside `value`; `copyIndexes` names the current index of each copy loop. */
  evaluate(value: Json, copyIndexes: Record<string, number> = {}): Json {
    if (typeof value === "string") {
      if (!value.startsWith("[") || value.startsWith("[[")) return value.startsWith("[[") ? value.slice(1) : value;
      return evaluateExpression(value.slice(1, -1), (name, args) => this.call(name, args, copyIndexes));
    }
    if (Array.isArray(value)) return value.map((item) => this.evaluate(item, copyIndexes));
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.evaluate(v, copyIndexes)]));
    }
    return value;
  }

  private call(name: string, args: Json[], copyIndexes: Record<string, number>): Json {
    const a = args as never[];
    const s = args as string[];
    switch (name.toLowerCase()) {
      case "parameters":
        return this.parameter(s[0]!);
      case "variables":
        return this.variable(s[0]!);
      case "copyindex": {
        const loop = typeof args[0] === "string" ? s[0]! : Object.keys(copyIndexes)[0];
        const index = loop === undefined ? undefined : copyIndexes[loop];
        if (index === undefined) throw new Error(`ARM: copyIndex(${loop ?? ""}) outside its loop`);
        return index + (typeof args[args.length - 1] === "number" ? (args[args.length - 1] as number) : 0);
      }
      case "concat":
        return Array.isArray(args[0]) ? (args as Json[][]).flat() : s.join("");
      case "format":
        return s[0]!.replace(/\{(\d+)\}/g, (_, i: string) => String(args[Number(i) + 1]));
      case "string":
        return typeof args[0] === "string" ? args[0] : JSON.stringify(args[0]);
      case "join":
        return (a[0] as string[]).join(s[1]);
      case "split":
        return s[0]!.split(s[1]!);
      case "last":
        return (a[0] as Json[]).at(-1)!;
      case "tolower":
        return s[0]!.toLowerCase();
      case "take":
        return (args[0] as string).slice(0, args[1] as number);
      case "length":
        return (a[0] as Json[]).length;
      case "empty":
        return typeof args[0] === "object" && args[0] !== null ? Object.keys(args[0]).length === 0 : !args[0];
      case "if":
        return args[0] ? args[1]! : args[2]!;
      case "equals":
        return JSON.stringify(args[0]) === JSON.stringify(args[1]);
      case "not":
        return !args[0];
      case "and":
        return args.every(Boolean);
      case "or":
        return args.some(Boolean);
      case "greater":
        return (args[0] as number) > (args[1] as number);
      case "int":
        return this.integer(args[0]!);
      case "createobject":
        return Object.fromEntries(
          Array.from({ length: args.length / 2 }, (_, i) => [String(args[2 * i]), args[2 * i + 1]!]),
        );
      case "union":
        return Array.isArray(args[0])
          ? [...new Set((args as Json[][]).flat())]
          : Object.assign({}, ...(args as JsonObject[]));
      case "guid":
        return hashOf(args).replace(/^(.{8})(.{4})(.{4})(.{4})(.{12}).*$/, "$1-$2-$3-$4-$5");
      case "uniquestring":
        return hashOf(args).slice(0, 13);
      case "resourcegroup":
        return {
          id: `/subscriptions/${this.scope.subscriptionId}/resourceGroups/${this.scope.resourceGroup}`,
          name: this.scope.resourceGroup,
          location: this.scope.location,
        };
      case "subscription":
        return { id: `/subscriptions/${this.scope.subscriptionId}`, subscriptionId: this.scope.subscriptionId };
      case "environment":
        return { resourceManager: "https://management.azure.com/", suffixes: { storage: "core.windows.net" } };
      case "resourceid":
        return this.resourceId(
          `/subscriptions/${this.scope.subscriptionId}/resourceGroups/${this.scope.resourceGroup}`,
          s,
        );
      case "extensionresourceid":
        return `${s[0]}/providers/${this.resourceId("", s.slice(1)).replace(/^\/providers\//, "")}`;
      case "subscriptionresourceid":
        return this.resourceId(`/subscriptions/${this.scope.subscriptionId}`, s);
      case "reference":
        return `<reference ${s[0]}>`;
      default:
        throw new Error(`ARM: the test evaluator does not know the function ${name}()`);
    }
  }

  /** `int()`: a number, or a string of decimal digits (anything else fails, as in ARM). */
  private integer(value: Json): number {
    if (typeof value === "number" && Number.isInteger(value)) return value;
    if (typeof value === "string" && /^-?\d+$/.test(value.trim())) return Number(value);
    throw new Error(`ARM: int(${JSON.stringify(value)}) is not an integer`);
  }

  /** `resourceId('Ns/type/child', 'name', 'childName')`: the type's segments interleaved with the names. */
  private resourceId(prefix: string, args: string[]): string {
    const [type, ...names] = args;
    const [namespace, ...types] = type!.split("/");
    const pairs = types.map((t, i) => `${t}/${names[i]}`).join("/");
    return `${prefix}/providers/${namespace}/${pairs}`;
  }
}

/** The nested deployment's template with its parameters evaluated in the outer context, in its own scope. */
export function nestedContext(outer: TemplateContext, deployment: JsonObject, copyIndex?: number): TemplateContext {
  const indexes = copyIndex === undefined ? {} : { [(deployment.copy as JsonObject).name as string]: copyIndex };
  const evaluated = (value: Json) => outer.evaluate(value, indexes);
  const properties = deployment.properties as JsonObject;
  const parameters = Object.fromEntries(
    Object.entries((properties.parameters ?? {}) as Record<string, JsonObject>).map(([k, v]) => [
      k,
      evaluated(v.value!),
    ]),
  );
  const scope: Scope = {
    subscriptionId: deployment.subscriptionId
      ? (evaluated(deployment.subscriptionId) as string)
      : outer.scope.subscriptionId,
    resourceGroup: deployment.resourceGroup
      ? (evaluated(deployment.resourceGroup) as string)
      : outer.scope.resourceGroup,
    location: outer.scope.location,
  };
  return new TemplateContext(properties.template as JsonObject, parameters, scope);
}

type Resource = JsonObject & { type: string; name: string };
/** A resource Resource Manager would deploy, every expression in it evaluated, with the scope it lands in. */
export type Deployed = JsonObject & {
  type: string;
  name: string;
  landsIn: { subscriptionId: string; group: string };
};

/** Every resource whose condition holds (nested deployments' resources included when the deployment's holds). */
export function deployedResources(
  context: TemplateContext,
  resources = (context.template.resources ?? []) as Resource[],
): Deployed[] {
  return resources.flatMap((resource) => {
    const loop = resource.copy as { name: string; count: string } | undefined;
    const indexes = loop ? [...Array(context.evaluate(loop.count) as number).keys()] : [undefined];
    return indexes.flatMap((index) => {
      const copyIndexes = loop && index !== undefined ? { [loop.name]: index } : {};
      if ("condition" in resource && context.evaluate(resource.condition!, copyIndexes) !== true) return [];
      const landsIn = { subscriptionId: context.scope.subscriptionId, group: context.scope.resourceGroup };
      if (resource.type !== "Microsoft.Resources/deployments") {
        return [{ ...(context.evaluate(resource, copyIndexes) as Resource), landsIn }];
      }
      // A nested template's expressions are its own (inner scope): the deployment is evaluated without it.
      const { template: _inner, ...properties } = resource.properties as JsonObject;
      const evaluated = { ...(context.evaluate({ ...resource, properties }, copyIndexes) as Resource), landsIn };
      return [evaluated, ...deployedResources(nestedContext(context, resource, index))];
    });
  });
}

export const ofType = (deployed: Deployed[], type: string) => deployed.filter((r) => r.type === type);
export const propertiesOf = (resource: Deployed) => resource.properties as JsonObject;
