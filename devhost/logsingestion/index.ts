/** The local Logs Ingestion endpoint (devhost/README.md). */
export * from "./endpoint";
export * from "./readBack";
