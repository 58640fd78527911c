/** Starts a backfill as a user does: POST /api/backfill with the function key, answered 202 with its status URLs. */

/** The request body of POST /api/backfill. */
export interface BackfillRequestBody {
  from: string;
  to: string;
  maxParallelBlobs: number;
  backfillId: string;
}

/** The started backfill's instance id and status URL; throws unless the host answered 202 with both. */
export async function postBackfill(
  baseUrl: string,
  key: string,
  backfill: BackfillRequestBody,
): Promise<{ id: string; statusQueryGetUri: string }> {
  const response = await fetch(`${baseUrl}/api/backfill`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-functions-key": key },
    body: JSON.stringify(backfill),
  });
  const body = (await response.json()) as { id?: string; statusQueryGetUri?: string };
  if (response.status !== 202 || body.id === undefined || body.statusQueryGetUri === undefined)
    throw new Error(`POST /api/backfill answered ${response.status}: ${JSON.stringify(body)}`);
  return { id: body.id, statusQueryGetUri: body.statusQueryGetUri };
}
