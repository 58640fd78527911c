"""Uploads rows to the local Logs Ingestion endpoint with Debian's Python azure-monitor-ingestion
(python3-azure), a client nobody here wrote: its own chunking (1 MiB estimates), gzip and azure-core
retry policy (Retry-After). Request (JSON argument): endpoint, rule_id, stream, token, ca_file, tag,
count (the rows, generated here as rowsOf in pythonClient.test.ts: too many for a command line). Answer (last stdout line): {"failures": [{"status": int|null, "rows": int}]}.
"""
import json
import sys
import time

from azure.core.credentials import AccessToken
from azure.core.exceptions import HttpResponseError
from azure.monitor.ingestion import LogsIngestionClient


class FixedToken:
    """A TokenCredential answering the token the local tenant minted."""

    def __init__(self, token):
        self._token = token

    def get_token(self, *scopes, **kwargs):
        return AccessToken(self._token, int(time.time()) + 3600)


def main():
    request = json.loads(sys.argv[1])
    client = LogsIngestionClient(
        request["endpoint"],
        FixedToken(request["token"]),
        connection_verify=request["ca_file"],
        retry_backoff_factor=0.01,
    )
    failures = []

    def on_error(error, rows):
        status = error.status_code if isinstance(error, HttpResponseError) else None
        failures.append({"status": status, "rows": len(rows)})

    rows = [
        {"tag": request["tag"], "i": i, "TimeGenerated": "2026-11-22T10:00:00.000Z", "x": "y" * 560}
        for i in range(request["count"])
    ]
    client.upload(request["rule_id"], request["stream"], rows, on_error=on_error)
    print(json.dumps({"failures": failures}))


main()
