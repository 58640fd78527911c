/**
 * Child process: generates and uploads the backfill-large corpus, so that the storage client's
 * work (signing, HTTP) runs beside Azurite's instead of on the bench process's core.
 */
import { BlobServiceClient } from "@azure/storage-blob";
import { planManyBlobs } from "../devhost/generate";
import { uploadGeneratedBlobs, type UploadSummary } from "../devhost/uploadGenerated";
import { serveBenchRequests } from "./childProcess";

export interface UploadRequest {
  storageConnectionString: string;
  blobCount: number;
  seed: number;
  startHourIso: string;
  concurrency: number;
}

export interface UploadReply extends UploadSummary {
  cpuTimeInMs: number;
}

serveBenchRequests<UploadRequest, UploadReply>(async (request) => {
  const layout = planManyBlobs(request);
  const cpuAtStart = process.cpuUsage();
  const summary = await uploadGeneratedBlobs(
    BlobServiceClient.fromConnectionString(request.storageConnectionString),
    layout.blobs,
    { topology: layout.topology, concurrency: request.concurrency },
  );
  const cpu = process.cpuUsage(cpuAtStart);
  return { ...summary, cpuTimeInMs: (cpu.user + cpu.system) / 1000 };
});
