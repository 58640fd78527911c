/**
 * Records the app's function registrations instead of dropping them.
 *
 * Outside the Functions host, `@azure/functions` `app.*` only warns and drops each handler.
 * The local host replaces the registration functions on the `app` object of the very
 * `@azure/functions` module instance that `durable-functions` resolves (so `df.app.*` is
 * recorded too), and collects every registration made while the host loads the app.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import type * as AzureFunctions from "@azure/functions";
import type {
  FunctionHandler,
  FunctionInput,
  FunctionOutput,
  FunctionTrigger,
  GenericFunctionOptions,
} from "@azure/functions";
import { configurationError } from "../../src/errors";
import { logger } from "../../src/logger";

/** One function of the app, as the Functions host would index it. */
export interface FunctionRegistration {
  name: string;
  /**
   * The trigger binding type: httpTrigger, timerTrigger, eventGridTrigger, orchestrationTrigger, entityTrigger,
   * activityTrigger...
   */
  triggerType: string;
  /** The full trigger binding (route, methods, authLevel, schedule, ...). */
  trigger: FunctionTrigger;
  extraInputs: FunctionInput[];
  extraOutputs: FunctionOutput[];
  return?: FunctionOutput;
  handler: FunctionHandler;
}

/** A handler-free summary of a registration, for `toEqual` assertions in tests. */
export interface RegistrationSummary {
  name: string;
  triggerType: string;
  route?: string;
  methods?: string[];
  authLevel?: string;
  schedule?: string;
  extraInputTypes: string[];
  extraOutputTypes: string[];
}

/** How the host finds the app's registrations. */
export type AppSource =
  /** A module whose loading registers the functions (default: package.json `main` of `rootDir`). */
  | { modulePath: string }
  /** A callback that registers functions (calls `app.*` / `df.app.*`); run once per host start. */
  | { register: () => void | Promise<void> };

type FunctionsModule = typeof AzureFunctions;
type RegisterFunction = (name: string, options: Record<string, unknown>) => void;

const requireHere = createRequire(__filename);

let resolvedFunctionsModule: FunctionsModule | undefined;

/**
 * `@azure/functions` as `durable-functions` resolves it: the instance whose `app` df.app.* calls. Resolved once:
 * every invocation's context needs it, and resolving reads package.json files each time.
 */
export function functionsModule(): FunctionsModule {
  resolvedFunctionsModule ??= createRequire(requireHere.resolve("durable-functions"))(
    "@azure/functions",
  ) as FunctionsModule;
  return resolvedFunctionsModule;
}

/** An app hook handler (`app.hook.appStart` / `appTerminate`), called with its context. */
export type AppHookHandler = (context: unknown) => void | Promise<void>;

/** Runs `app.hook.appStart`/`appTerminate` handlers, as the Functions host does at start and stop. */
export async function runAppHooks(hooks: readonly AppHookHandler[], moment: "start" | "terminate"): Promise<void> {
  const { AppStartContext, AppTerminateContext } = functionsModule();
  for (const hook of hooks)
    await hook(moment === "start" ? new AppStartContext({ hookData: {} }) : new AppTerminateContext({ hookData: {} }));
}

/** What loading the app recorded. */
export interface LoadedApp {
  registrations: FunctionRegistration[];
  appStartHooks: AppHookHandler[];
  appTerminateHooks: AppHookHandler[];
}

let activeRecording: LoadedApp | undefined;
let patched = false;

function record(name: string, options: GenericFunctionOptions): void {
  if (!activeRecording) {
    logger.warning(`registration of "${name}" outside a local host load was dropped`);
    return;
  }
  if (activeRecording.registrations.some((r) => r.name === name)) {
    throw configurationError(`function "${name}" is registered twice`);
  }
  activeRecording.registrations.push({
    name,
    triggerType: options.trigger.type,
    trigger: options.trigger,
    extraInputs: options.extraInputs ?? [],
    extraOutputs: options.extraOutputs ?? [],
    return: options.return,
    handler: options.handler,
  });
}

const httpMethodShortcuts: Record<string, string> = {
  get: "GET",
  put: "PUT",
  post: "POST",
  patch: "PATCH",
  deleteRequest: "DELETE",
};

/** Mirrors `@azure/functions` convertToGenericOptions: the rest of the options form the trigger. */
function toGenericOptions(
  functions: FunctionsModule,
  triggerKind: string,
  options: Record<string, unknown>,
): GenericFunctionOptions {
  const { handler, return: ret, trigger, extraInputs, extraOutputs, retry, ...triggerOptions } = options;
  const makeTrigger = (functions.trigger as unknown as Record<string, (o: unknown) => FunctionTrigger>)[triggerKind];
  // app.http gives every HTTP function a default http output binding.
  const defaultReturn = triggerKind === "http" ? functions.output.http({}) : undefined;
  return {
    trigger: (trigger as FunctionTrigger | undefined) ?? makeTrigger(triggerOptions),
    return: (ret as FunctionOutput | undefined) ?? defaultReturn,
    retry: retry as GenericFunctionOptions["retry"],
    extraInputs: extraInputs as FunctionInput[] | undefined,
    extraOutputs: extraOutputs as FunctionOutput[] | undefined,
    handler: handler as FunctionHandler,
  };
}

/** The durable-functions version whose internals the host reads (executor, actions, tasks). */
const supportedDurableFunctionsVersion = "3.5.0";

/** Replaces every `app.<trigger>` registration function with a recorder. Idempotent. */
export function patchFunctionsApp(): void {
  if (patched) return;
  const { version } = requireHere("durable-functions/package.json") as { version: string };
  if (version !== supportedDurableFunctionsVersion) {
    logger.warning(
      `local host: durable-functions ${version} is installed; ` +
        `the host was built on ${supportedDurableFunctionsVersion} internals`,
    );
  }
  const functions = functionsModule();
  const app = functions.app as unknown as Record<string, unknown>;
  const triggers = functions.trigger as unknown as Record<string, unknown>;
  for (const key of Object.keys(app)) {
    if (key === "generic") {
      app.generic = (name: string, options: GenericFunctionOptions) => record(name, options);
    } else if (key in httpMethodShortcuts) {
      const method = httpMethodShortcuts[key];
      app[key] = ((name, optionsOrHandler) => {
        const options = typeof optionsOrHandler === "function" ? { handler: optionsOrHandler } : optionsOrHandler;
        record(name, toGenericOptions(functions, "http", { ...options, methods: [method] }));
      }) as RegisterFunction;
    } else if (typeof triggers[key] === "function" && typeof app[key] === "function") {
      app[key] = ((name, options) =>
        record(name, toGenericOptions(functions, key, { ...options }))) as RegisterFunction;
    }
  }
  const hook = functions.app.hook as unknown as Record<string, unknown>;
  hook.appStart = (handler: AppHookHandler) => recordHook("appStartHooks", handler, functions);
  hook.appTerminate = (handler: AppHookHandler) => recordHook("appTerminateHooks", handler, functions);
  patched = true;
}

function recordHook(
  kind: "appStartHooks" | "appTerminateHooks",
  handler: AppHookHandler,
  functions: FunctionsModule,
): AzureFunctions.Disposable {
  const recording = activeRecording;
  if (!recording) {
    logger.warning(`an app hook registered outside a local host load was dropped`);
    return new functions.Disposable(() => undefined);
  }
  recording[kind].push(handler);
  return new functions.Disposable(() => {
    recording[kind] = recording[kind].filter((h) => h !== handler);
  });
}

/** Registrations recorded per module path: a module loads once per process, like in the Functions host. */
const moduleRegistrations = new Map<string, LoadedApp>();

/** Resolves package.json `main` of `rootDir` (what the Functions host loads). */
export function defaultAppModulePath(rootDir: string): string {
  const packageJson = requireHere(path.join(rootDir, "package.json")) as { main?: string };
  if (!packageJson.main) {
    throw configurationError(`${path.join(rootDir, "package.json")} has no "main": the local host cannot find the app`);
  }
  return path.resolve(rootDir, packageJson.main);
}

/** Loads the app and returns every function and app hook it registered. */
export async function loadApp(source: AppSource): Promise<LoadedApp> {
  patchFunctionsApp();
  if ("modulePath" in source) {
    const modulePath = path.resolve(source.modulePath);
    const cached = moduleRegistrations.get(modulePath);
    if (cached) return cached;
    if (path.extname(modulePath) !== "" && !existsSync(modulePath)) {
      throw configurationError(
        `the app module ${modulePath} does not exist (for package.json "main", run \`npm run build\` first)`,
      );
    }
    const loaded = await recordDuring(() => import(modulePath));
    if (loaded.registrations.length === 0) {
      throw configurationError(
        `loading the app module ${modulePath} registered no functions ` +
          "(was it imported before the local host patched @azure/functions?)",
      );
    }
    moduleRegistrations.set(modulePath, loaded);
    return loaded;
  }
  return recordDuring(source.register);
}

async function recordDuring(load: () => unknown): Promise<LoadedApp> {
  if (activeRecording) throw configurationError("two local hosts are loading an app at the same time");
  const loaded: LoadedApp = { registrations: [], appStartHooks: [], appTerminateHooks: [] };
  activeRecording = loaded;
  try {
    await load();
  } finally {
    activeRecording = undefined;
  }
  return loaded;
}

/** A handler-free view of registrations, sorted by name. */
export function summarizeRegistrations(registrations: readonly FunctionRegistration[]): RegistrationSummary[] {
  return [...registrations]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((r) => {
      const trigger = r.trigger as FunctionTrigger & Record<string, unknown>;
      const summary: RegistrationSummary = {
        name: r.name,
        triggerType: r.triggerType,
        extraInputTypes: r.extraInputs.map((i) => i.type),
        extraOutputTypes: r.extraOutputs.map((o) => o.type),
      };
      if (r.triggerType === "httpTrigger") {
        summary.route = typeof trigger.route === "string" ? trigger.route : r.name;
        summary.methods = trigger.methods as string[] | undefined;
        summary.authLevel = trigger.authLevel as string | undefined;
      }
      if (typeof trigger.schedule === "string") summary.schedule = trigger.schedule;
      return summary;
    });
}
