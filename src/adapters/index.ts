/** The thin I/O adapters the activities use: Blob storage in, Event Hubs out. */
export * from "./credentials";
export * from "./blobSource";
export * from "./eventHubsSink";
export * from "./flowMessages";
