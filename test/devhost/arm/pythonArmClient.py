"""Drives the local ARM endpoint with Microsoft's Python client (Debian python3-azure: azure-mgmt-network).

Usage: pythonArmClient.py ENDPOINT CA_FILE SUBSCRIPTION VM_ID
Prints one JSON object: what each packet capture call returned or raised.
"""
import json
import sys
import time

from azure.core.credentials import AccessToken
from azure.core.exceptions import HttpResponseError
from azure.mgmt.network import NetworkManagementClient

WATCHER_GROUP = "NetworkWatcherRG"
WATCHER = "NetworkWatcher_eastus"


class LocalToken:
    """The local endpoint checks that a bearer token is present, not what it is."""

    def get_token(self, *scopes, **kwargs):
        return AccessToken("flowtap-local-token", int(time.time()) + 3600)


def outcome(call):
    try:
        return {"ok": call()}
    except HttpResponseError as error:
        code = error.error.code if error.error is not None else None
        return {"statusCode": error.status_code, "code": code}


def capture_body(vm_id):
    return {
        "target": vm_id,
        "time_limit_in_seconds": 60,
        "storage_location": {
            "storage_id": vm_id.split("/providers/")[0] + "/providers/Microsoft.Storage/storageAccounts/caps"
        },
    }


def main(endpoint, ca_file, subscription, vm_id):
    client = NetworkManagementClient(
        LocalToken(), subscription, base_url=endpoint, connection_verify=ca_file, retry_total=0
    )
    captures = client.packet_captures
    fast = {"polling_interval": 0.01}

    def create(name):
        poller = captures.begin_create(WATCHER_GROUP, WATCHER, name, capture_body(vm_id), **fast)
        return poller.result().provisioning_state

    results = {
        "create": outcome(lambda: create("py-1")),
        "createAgain": outcome(lambda: create("py-1")),
        "status": outcome(
            lambda: captures.begin_get_status(WATCHER_GROUP, WATCHER, "py-1", **fast).result().packet_capture_status
        ),
        "stop": outcome(lambda: captures.begin_stop(WATCHER_GROUP, WATCHER, "py-1", **fast).result()),
        "stoppedStatus": outcome(
            lambda: captures.begin_get_status(WATCHER_GROUP, WATCHER, "py-1", **fast).result().stop_reason
        ),
        "delete": outcome(lambda: captures.begin_delete(WATCHER_GROUP, WATCHER, "py-1", **fast).result()),
        "failedCreate": outcome(lambda: create("py-failed")),
    }
    print(json.dumps(results))


if __name__ == "__main__":
    main(*sys.argv[1:])
