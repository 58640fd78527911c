/**
 * How many worker processes a local host runs. The Functions host reads FUNCTIONS_WORKER_PROCESS_COUNT (a value
 * below 1 counts as 1, above the maximum of 10 is refused: Azure/azure-functions-host
 * src/WebJobs.Script/Workers/Rpc/Configuration/RpcWorkerConfigFactory.cs GetWorkerProcessCount,
 * Workers/ProcessManagement/WorkerProcessCountOptions.cs); here the host option wins over it, and without either
 * the host runs one worker per core (`os.availableParallelism()`), except where it cannot or should not: an app
 * given as a `register` callback exists in this process only, and a host on a virtual clock is a test device
 * stepped from its test, so both run their functions in the host process (0).
 */
import { availableParallelism } from "node:os";
import { configurationError } from "../../../src/errors";

export const WORKER_PROCESS_COUNT_SETTING = "FUNCTIONS_WORKER_PROCESS_COUNT";
/** WorkerProcessCountOptions.MaxProcessCount. */
export const MAX_WORKER_PROCESS_COUNT = 10;

export interface WorkerCountInputs {
  /** The host option (0: run the functions in the host process). */
  option: number | undefined;
  /** FUNCTIONS_WORKER_PROCESS_COUNT as the host sees it (its settings applied). */
  setting: string | undefined;
  appIsModule: boolean;
  virtualClock: boolean;
}

export function workerProcessCount(inputs: WorkerCountInputs): number {
  const count = chosenCount(inputs);
  if (count > 0 && !inputs.appIsModule)
    throw configurationError(
      `startLocalHost: ${count} worker processes load the app module, but the app is a register callback ` +
        "(it exists in this process only): give app.modulePath, or workerProcessCount: 0",
    );
  return count;
}

function chosenCount(inputs: WorkerCountInputs): number {
  if (inputs.option !== undefined) {
    if (!Number.isInteger(inputs.option) || inputs.option < 0 || inputs.option > MAX_WORKER_PROCESS_COUNT)
      throw configurationError(
        `startLocalHost: workerProcessCount must be an integer in [0, ${MAX_WORKER_PROCESS_COUNT}], ` +
          `got ${inputs.option}`,
      );
    return inputs.option;
  }
  if (inputs.setting !== undefined && inputs.setting.trim() !== "") {
    const parsed = /^\s*-?\d+\s*$/.test(inputs.setting) ? Number(inputs.setting) : Number.NaN;
    if (!Number.isSafeInteger(parsed) || parsed > MAX_WORKER_PROCESS_COUNT)
      throw configurationError(
        `${WORKER_PROCESS_COUNT_SETTING} must be an integer of at most ${MAX_WORKER_PROCESS_COUNT}, ` +
          `got '${inputs.setting}'`,
      );
    return Math.max(1, parsed);
  }
  return inputs.appIsModule && !inputs.virtualClock ? Math.min(availableParallelism(), MAX_WORKER_PROCESS_COUNT) : 0;
}
