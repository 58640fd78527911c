/** ASIM (Microsoft Sentinel) normalization of flow events. */
export * from "./networkSessionColumns";
export * from "./networkSession";
