/**
 * A local host store in Azure Table storage (Azurite locally): one table row per instance
 * (partition "instance") and per entity (partition "entity"), the record as JSON split over
 * string properties (a property holds at most 64 KiB).
 */
import { RestError, TableClient, type TableEntity } from "@azure/data-tables";
import { KeyedSerialQueue } from "./keyedQueue";
import type { EntityRecord, HostStore, InstanceRecord, StoreSnapshot } from "./store";

const instancePartition = "instance";
const entityPartition = "entity";
/** UTF-16 characters per property: under the 64 KiB property limit. */
const charactersPerProperty = 30_000;

type StoredRow = TableEntity<Record<string, string | number>>;

/** Row keys may not contain / \ # ? or control characters: percent-encode the id. */
function rowKeyOf(id: string): string {
  return encodeURIComponent(id);
}

function toRow(partitionKey: string, id: string, record: unknown): StoredRow {
  const json = JSON.stringify(record);
  const parts = Math.max(1, Math.ceil(json.length / charactersPerProperty));
  const row: StoredRow = { partitionKey, rowKey: rowKeyOf(id), parts };
  for (let i = 0; i < parts; i++)
    row[`json${i}`] = json.substring(i * charactersPerProperty, (i + 1) * charactersPerProperty);
  return row;
}

function fromRow<T>(row: StoredRow): T {
  let json = "";
  for (let i = 0; i < Number(row.parts); i++) json += String(row[`json${i}`] ?? "");
  return JSON.parse(json) as T;
}

export class TableStore implements HostStore {
  readonly description: string;
  /** Writes per row in order, so a later save of a record never lands before an earlier one. */
  private readonly writes = new KeyedSerialQueue();

  constructor(private readonly client: TableClient) {
    this.description = `table ${client.tableName} at ${client.url}`;
  }

  /** A store in `tableName` of the account named by a connection string (http allowed: Azurite). */
  static fromConnectionString(connectionString: string, tableName: string): TableStore {
    return new TableStore(
      TableClient.fromConnectionString(connectionString, tableName, { allowInsecureConnection: true }),
    );
  }

  async load(): Promise<StoreSnapshot> {
    await this.client.createTable();
    const snapshot: StoreSnapshot = { instances: [], entities: [] };
    for await (const row of this.client.listEntities<Record<string, string | number>>()) {
      if (row.partitionKey === instancePartition) snapshot.instances.push(fromRow<InstanceRecord>(row as StoredRow));
      if (row.partitionKey === entityPartition) snapshot.entities.push(fromRow<EntityRecord>(row as StoredRow));
    }
    return snapshot;
  }

  saveInstance(record: InstanceRecord): Promise<void> {
    const row = toRow(instancePartition, record.instanceId, record);
    return this.writes.run(`${instancePartition}/${row.rowKey}`, () => this.client.upsertEntity(row, "Replace"));
  }

  deleteInstance(instanceId: string): Promise<void> {
    return this.writes.run(`${instancePartition}/${rowKeyOf(instanceId)}`, async () => {
      try {
        await this.client.deleteEntity(instancePartition, rowKeyOf(instanceId));
      } catch (error) {
        if (!(error instanceof RestError && error.statusCode === 404)) throw error;
      }
    });
  }

  saveEntity(record: EntityRecord): Promise<void> {
    const row = toRow(entityPartition, record.entityId, record);
    return this.writes.run(`${entityPartition}/${row.rowKey}`, () => this.client.upsertEntity(row, "Replace"));
  }
}
