/**
 * A MemoryStore that keeps, as the host writes through it, the largest orchestration history
 * (events and JSON bytes), input (a continueAsNew generation's state), custom status and entity
 * state per function name: what must stay bounded however many blobs a backfill takes.
 */
import { MemoryStore, type EntityRecord, type InstanceRecord } from "../devhost/host";

export interface LargestRecord {
  historyEvents: number;
  historyBytes: number;
  inputBytes: number;
  customStatusBytes: number;
}

export interface StoreFigures {
  /** Orchestration name → the largest of each measure over every save. */
  orchestrations: Record<string, LargestRecord>;
  /** Entity name → largest state (JSON bytes). */
  entityStateBytes: Record<string, number>;
  instancesSaved: number;
  entitiesSaved: number;
  saves: number;
}

const jsonBytes = (value: unknown): number =>
  value === undefined ? 0 : Buffer.byteLength(typeof value === "string" ? value : JSON.stringify(value));

export class MeasuringStore extends MemoryStore {
  override readonly description = "memory (measured)";
  private readonly figures: StoreFigures = {
    orchestrations: {},
    entityStateBytes: {},
    instancesSaved: 0,
    entitiesSaved: 0,
    saves: 0,
  };

  override async saveInstance(record: InstanceRecord): Promise<void> {
    this.figures.saves++;
    const largest = (this.figures.orchestrations[record.name] ??= {
      historyEvents: 0,
      historyBytes: 0,
      inputBytes: 0,
      customStatusBytes: 0,
    });
    // Bytes are counted only when the history is at least as long as the longest yet (cheap on every save).
    if (record.history.length >= largest.historyEvents) {
      largest.historyEvents = record.history.length;
      largest.historyBytes = Math.max(largest.historyBytes, jsonBytes(record.history));
    }
    largest.inputBytes = Math.max(largest.inputBytes, jsonBytes(record.input));
    largest.customStatusBytes = Math.max(largest.customStatusBytes, jsonBytes(record.customStatus));
    await super.saveInstance(record);
  }

  override async saveEntity(record: EntityRecord): Promise<void> {
    this.figures.saves++;
    const name = record.name;
    this.figures.entityStateBytes[name] = Math.max(this.figures.entityStateBytes[name] ?? 0, jsonBytes(record.state));
    await super.saveEntity(record);
  }

  snapshotFigures(): StoreFigures {
    return {
      ...structuredClone(this.figures),
      instancesSaved: this.instances.size,
      entitiesSaved: this.entities.size,
    };
  }
}
