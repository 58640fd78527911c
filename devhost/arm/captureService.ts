import { ValidationError } from "../../src/errors";
import { ArmHttpError, childResourceNotFound, resourceNotFound } from "./armHttpError";
import type { AsyncOperations, BeginOperation } from "./asyncOperations";
import type { ArmClock } from "./clock";
import { ArmErrorCodes, type FaultQueue } from "./faults";
import { ok, type ArmResponse, type RequestContext } from "./http";
import {
  INVALID_REQUEST_CODE,
  PACKET_CAPTURE_ERROR_CODES,
  refreshSessionStatus,
  toPacketCaptureResource,
  toQueryStatusResult,
  validatePacketCaptureBody,
  type PacketCaptureErrorCode,
  type PacketCaptureProperties,
  type PacketCaptureRecord,
} from "./packetCaptures";
import { agentExtensionType, type Watcher } from "./resources";
import { parseResourceId, resourceKey, type VirtualMachineSeed } from "./seed";
import type { ArmTopology } from "./topology";

/** Path parameters of a packet capture: subscription, resource group, network watcher, capture name. */
export type CapturePath = [subscriptionId: string, resourceGroup: string, watcherName: string, name: string];

/**
 * Network Watcher packet captures (azure-rest-api-specs specification/network/resource-manager/Microsoft.Network/
 * stable/2025-03-01/networkWatcher.json, PacketCaptures_*, and its examples NetworkWatcherPacketCapture*.json):
 * PUT (Create only: 201 + Azure-AsyncOperation; the spec has no update, so a second PUT of a name is a 409),
 * GET, list, POST stop and queryStatus (202 + Location), DELETE (202 + Location, 204 when absent).
 */
export class PacketCaptureService {
  private readonly captures = new Map<string, PacketCaptureRecord>();

  constructor(
    private readonly topology: ArmTopology,
    private readonly operations: AsyncOperations,
    private readonly clock: ArmClock,
    private readonly faults: FaultQueue,
    /** Running sessions allowed per network watcher (one watcher per region and subscription). */
    private readonly maxSessionsPerRegion: number,
  ) {}

  list(context: RequestContext, subscriptionId: string, resourceGroup: string, watcherName: string): ArmResponse {
    const watcher = this.topology.watcher(subscriptionId, resourceGroup, watcherName);
    return this.topology.page(context, this.capturesOf(watcher).map(toPacketCaptureResource));
  }

  get(path: CapturePath): ArmResponse {
    return ok(toPacketCaptureResource(this.capture(path)));
  }

  create(context: RequestContext, [subscriptionId, resourceGroup, watcherName, name]: CapturePath): ArmResponse {
    const watcher = this.topology.watcher(subscriptionId, resourceGroup, watcherName);
    const properties = validatePacketCaptureBody(context.body);
    this.checkTarget(watcher, properties);
    const id = `${watcher.id}/packetCaptures/${name}`;
    if (this.captures.has(resourceKey(id))) {
      throw new ArmHttpError(409, ArmErrorCodes.captureAlreadyExists, `Packet capture ${id} already exists.`);
    }
    this.checkSessionLimit(watcher);
    const record: PacketCaptureRecord = { id, name, properties, provisioningState: "Updating" };
    this.captures.set(resourceKey(id), record);
    const headers = this.begin(context, watcher, record, "Azure-AsyncOperation", {
      complete: () => {
        record.provisioningState = "Succeeded";
        record.captureStartTimeInMs = this.clock.now();
        return ok(toPacketCaptureResource(record));
      },
      fail: () => {
        record.provisioningState = "Failed";
      },
    });
    return { statusCode: 201, body: toPacketCaptureResource(record), headers };
  }

  stop(context: RequestContext, path: CapturePath): ArmResponse {
    const record = this.capture(path);
    const headers = this.begin(context, this.watcherOf(path), record, "Location", {
      complete: () => {
        if (refreshSessionStatus(record, this.clock.now()) !== "Stopped") {
          record.stoppedAtInMs = this.clock.now();
          record.stopReason = "Manual";
        }
        // The spec's final answer of stop is 200 without a body.
        return { statusCode: 200 };
      },
    });
    return { statusCode: 202, headers };
  }

  queryStatus(context: RequestContext, path: CapturePath): ArmResponse {
    const record = this.capture(path);
    const headers = this.begin(context, this.watcherOf(path), record, "Location", {
      complete: () => ok(toQueryStatusResult(record, this.clock.now())),
    });
    return { statusCode: 202, headers };
  }

  delete(context: RequestContext, path: CapturePath): ArmResponse {
    const watcher = this.watcherOf(path);
    const key = resourceKey(`${watcher.id}/packetCaptures/${path[3]}`);
    const record = this.captures.get(key);
    // The spec (and ARM) answer 204 for a DELETE of something that is not there.
    if (!record) return { statusCode: 204 };
    this.operations.settle(key);
    record.provisioningState = "Deleting";
    const headers = this.begin(context, watcher, record, "Location", {
      complete: () => {
        this.captures.delete(key);
        return { statusCode: 204 };
      },
      fail: () => {
        record.provisioningState = "Failed";
      },
    });
    return { statusCode: 202, headers };
  }

  /** Makes a capture (by name or full id) report packetCaptureStatus Error with these errors. */
  fail(nameOrId: string, errors: PacketCaptureErrorCode[]): void {
    const wanted = resourceKey(nameOrId);
    const matches = [...this.captures.entries()].filter(
      ([key, record]) => key === wanted || resourceKey(record.name) === wanted,
    );
    const [match, ...others] = matches;
    if (!match || others.length > 0) {
      throw new ValidationError(
        `failPacketCapture: expected exactly one packet capture named '${nameOrId}', found ${matches.length}`,
      );
    }
    if (errors.length === 0 || errors.some((error) => !PACKET_CAPTURE_ERROR_CODES.includes(error))) {
      const allowed = PACKET_CAPTURE_ERROR_CODES.join(", ");
      throw new ValidationError(
        `failPacketCapture: errors must be a non-empty list of ${allowed}, got ${JSON.stringify(errors)}`,
      );
    }
    this.operations.settle(match[0]);
    match[1].errors = [...errors];
  }

  private begin(
    context: RequestContext,
    watcher: Watcher,
    record: PacketCaptureRecord,
    documentedHeader: BeginOperation["documentedHeader"],
    work: BeginOperation["work"],
  ): Record<string, string> {
    return this.operations.begin({
      apiVersion: context.apiVersion,
      subscriptionId: watcher.subscriptionId,
      location: watcher.location,
      resourceKey: resourceKey(record.id),
      documentedHeader,
      work,
      failure: this.faults.operationFailureFor(context.method, context.url.pathname),
    });
  }

  private watcherOf([subscriptionId, resourceGroup, watcherName]: CapturePath): Watcher {
    return this.topology.watcher(subscriptionId, resourceGroup, watcherName);
  }

  private capture(path: CapturePath): PacketCaptureRecord {
    const id = `${this.watcherOf(path).id}/packetCaptures/${path[3]}`;
    const record = this.captures.get(resourceKey(id));
    if (!record) throw childResourceNotFound(id);
    this.operations.settle(resourceKey(id));
    return record;
  }

  private capturesOf(watcher: Watcher): PacketCaptureRecord[] {
    const prefix = resourceKey(`${watcher.id}/packetCaptures/`);
    const keys = [...this.captures.keys()].filter((key) => key.startsWith(prefix));
    keys.forEach((key) => this.operations.settle(key));
    return keys.map((key) => this.captures.get(key)!);
  }

  /** The target VMs (a VM, or the scale set instances in scope) exist, are in the watcher's region, have the agent. */
  private checkTarget(watcher: Watcher, properties: PacketCaptureProperties): void {
    for (const vm of this.targetVms(properties)) this.checkVm(watcher, vm);
  }

  private targetVms(properties: PacketCaptureProperties): VirtualMachineSeed[] {
    const target = parseResourceId(properties.target);
    const type = properties.targetType === "AzureVMSS" ? "virtualMachineScaleSets" : "virtualMachines";
    const notFound = () =>
      resourceNotFound(
        `Microsoft.Compute/${type}`,
        target?.name ?? properties.target,
        target?.resourceGroup ?? "(none)",
      );
    if (properties.targetType === "AzureVM") {
      const vm = target && this.topology.virtualMachine(properties.target);
      if (!vm) throw notFound();
      return [vm];
    }
    const set = target && this.topology.scaleSet(properties.target);
    if (!set) throw notFound();
    // Both lists empty: every instance (PacketCaptureMachineScope in networkWatcher.json).
    const include = properties.scope?.include.length ? properties.scope.include : [...set.instances.keys()];
    const excluded = new Set((properties.scope?.exclude ?? []).map((id) => id.toLowerCase()));
    return include
      .filter((instanceId) => !excluded.has(instanceId.toLowerCase()))
      .map((instanceId) => {
        const vm = set.instances.get(instanceId.toLowerCase());
        if (!vm)
          throw resourceNotFound(
            "Microsoft.Compute/virtualMachineScaleSets/virtualMachines",
            instanceId,
            target.resourceGroup,
          );
        return vm;
      });
  }

  private checkVm(watcher: Watcher, vm: VirtualMachineSeed): void {
    if (vm.location.toLowerCase() !== watcher.location.toLowerCase()) {
      throw new ArmHttpError(
        400,
        INVALID_REQUEST_CODE,
        `Target ${vm.id} is in location '${vm.location}' but network watcher ${watcher.id} is in location ` +
          `'${watcher.location}'.`,
      );
    }
    if (!vm.networkWatcherExtension) {
      throw new ArmHttpError(
        400,
        ArmErrorCodes.agentNotInstalled,
        `Network Watcher Agent not installed on virtual machine ${vm.id}. ` +
          `Install the ${agentExtensionType(vm)} VM extension and retry.`,
      );
    }
  }

  /** The documented limit of parallel sessions per region and subscription (Network Watcher limits). */
  private checkSessionLimit(watcher: Watcher): void {
    const now = this.clock.now();
    const running = this.capturesOf(watcher).filter(
      (record) =>
        record.provisioningState !== "Failed" && ["NotStarted", "Running"].includes(refreshSessionStatus(record, now)),
    );
    if (running.length >= this.maxSessionsPerRegion) {
      throw new ArmHttpError(
        400,
        ArmErrorCodes.sessionLimitReached,
        `Cannot start more than ${this.maxSessionsPerRegion} parallel packet capture sessions in region ` +
          `'${watcher.location}' of subscription ${watcher.subscriptionId}.`,
      );
    }
  }
}
