/**
 * Where the local host keeps instance histories and entity states. The host holds the working
 * set in memory and writes every change through to the store, so a host started again on the
 * same store resumes every instance from its history.
 */
import { promises as fs } from "node:fs";
import * as path from "node:path";
import type { HistoryEvent } from "./history";

export type RuntimeStatus = "Pending" | "Running" | "Completed" | "Failed" | "Terminated" | "ContinuedAsNew";

export interface InstanceRecord {
  instanceId: string;
  /** Changes at every start and continueAsNew: completions for an earlier execution are dropped. */
  executionId: string;
  name: string;
  status: RuntimeStatus;
  /** JSON of the input of the current generation. */
  input: string | undefined;
  output?: unknown;
  customStatus?: unknown;
  failure?: { errorType: string; errorMessage: string; stackTrace?: string };
  createdTime: string;
  lastUpdatedTime: string;
  /** Processed history of the current generation (continueAsNew starts a new one). */
  history: HistoryEvent[];
  /** Arrived events not yet seen by the orchestrator. */
  inbox: HistoryEvent[];
  parent?: { instanceId: string; executionId: string; taskId: number };
}

/** An operation waiting for an entity. */
export interface EntityRequest {
  id: string;
  operation: string;
  signal: boolean;
  /** JSON of the operation input. */
  input: string | undefined;
  /** The orchestration waiting for the result (calls only). */
  replyTo?: string;
}

export interface EntityRecord {
  /** Scheduler id `@name@key` (name lower-cased, as durable-functions does). */
  entityId: string;
  name: string;
  key: string;
  exists: boolean;
  /** JSON of the state. */
  state?: string;
  queue: EntityRequest[];
  lastModifiedTime: string;
  /**
   * Set when a crash lost an operation's checkpoint: its message is leased and comes back when the lease expires
   * (ISO time), as a dequeued control-queue message does.
   */
  redeliverAt?: string;
}

export interface StoreSnapshot {
  instances: InstanceRecord[];
  entities: EntityRecord[];
}

export interface HostStore {
  /** A short label for logs ("memory", the file path, ...). */
  readonly description: string;
  load(): Promise<StoreSnapshot>;
  saveInstance(record: InstanceRecord): Promise<void>;
  deleteInstance(instanceId: string): Promise<void>;
  saveEntity(record: EntityRecord): Promise<void>;
  /**
   * The saved history of an instance, read synchronously (optional): when a store has it, the host keeps no copy of
   * a finished instance's history in memory and reads it from here when asked, as the extension reads the History
   * table, so 100,000 finished backfill instances are held once, not twice.
   */
  savedHistory?(instanceId: string): HistoryEvent[] | undefined;
}

/**
 * In-process store; pass the same object to a second host to simulate a restart. Records are kept as
 * their JSON text (as the extension's tables keep them serialized): a copy nothing else can change, and
 * a third of the memory of a cloned object graph, which matters once a backfill has left 100,000
 * finished instances behind.
 */
export class MemoryStore implements HostStore {
  readonly description: string = "memory";
  protected readonly instances = new Map<string, string>();
  protected readonly entities = new Map<string, string>();

  async load(): Promise<StoreSnapshot> {
    return {
      instances: [...this.instances.values()].map((text) => JSON.parse(text) as InstanceRecord),
      entities: [...this.entities.values()].map((text) => JSON.parse(text) as EntityRecord),
    };
  }

  async saveInstance(record: InstanceRecord): Promise<void> {
    this.instances.set(record.instanceId, JSON.stringify(record));
  }

  async deleteInstance(instanceId: string): Promise<void> {
    this.instances.delete(instanceId);
  }

  async saveEntity(record: EntityRecord): Promise<void> {
    this.entities.set(record.entityId, JSON.stringify(record));
  }

  savedHistory(instanceId: string): HistoryEvent[] | undefined {
    const text = this.instances.get(instanceId);
    return text === undefined ? undefined : (JSON.parse(text) as InstanceRecord).history;
  }
}

/** A JSON file holding the whole snapshot, rewritten atomically (temp file + rename) on each change. */
export class JsonFileStore extends MemoryStore {
  override readonly description: string;
  private currentWrite: Promise<void> = Promise.resolve();
  private nextWrite: Promise<void> | undefined;

  constructor(private readonly filePath: string) {
    super();
    this.description = filePath;
  }

  override async load(): Promise<StoreSnapshot> {
    let text: string;
    try {
      text = await fs.readFile(this.filePath, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { instances: [], entities: [] };
      throw error;
    }
    const snapshot = JSON.parse(text) as StoreSnapshot;
    this.instances.clear();
    this.entities.clear();
    for (const instance of snapshot.instances) this.instances.set(instance.instanceId, JSON.stringify(instance));
    for (const entity of snapshot.entities) this.entities.set(entity.entityId, JSON.stringify(entity));
    return super.load();
  }

  override async saveInstance(record: InstanceRecord): Promise<void> {
    await super.saveInstance(record);
    await this.flush();
  }

  override async deleteInstance(instanceId: string): Promise<void> {
    await super.deleteInstance(instanceId);
    await this.flush();
  }

  override async saveEntity(record: EntityRecord): Promise<void> {
    await super.saveEntity(record);
    await this.flush();
  }

  /** Writes the snapshot; saves arriving during a write share the one next write (coalesced). */
  private flush(): Promise<void> {
    const write = (): Promise<void> => {
      this.nextWrite = undefined;
      this.currentWrite = this.writeSnapshot();
      return this.currentWrite;
    };
    this.nextWrite ??= this.currentWrite.then(write, write);
    return this.nextWrite;
  }

  private async writeSnapshot(): Promise<void> {
    // The records are JSON already: the snapshot is their texts joined.
    const instances = [...this.instances.values()].join(",");
    const entities = [...this.entities.values()].join(",");
    const text = `{"instances":[${instances}],"entities":[${entities}]}`;
    await fs.mkdir(path.dirname(this.filePath), { recursive: true });
    const temporaryPath = `${this.filePath}.tmp`;
    await fs.writeFile(temporaryPath, text);
    await fs.rename(temporaryPath, this.filePath);
  }
}
