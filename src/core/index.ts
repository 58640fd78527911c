/** Public surface of the core (pure logic). Each module adds its exports here. */
export * from "./event";
export * from "./blobPath";
export * from "./records";
export * from "./flatten";
export * from "./encode";
export * from "./eventId";
export * from "./anomaly";
export * from "./alertSchema";
export * from "./alertTargets";
export * from "./resourceId";
export * from "./capturePolicy";
export * from "./blobUrl";
export * from "./eventFilter";
export * from "./asim";
export * from "./compactRecords";
