"""Reads scale sets from the local ARM endpoint with Microsoft's Python clients (Debian python3-azure:
azure-mgmt-compute and azure-mgmt-network) and creates an AzureVMSS capture scoped to one instance.

Usage: pythonScaleSetClient.py ENDPOINT CA_FILE SUBSCRIPTION SCALE_SET_ID INSTANCE_ID WATCHER
Prints one JSON object: what each call returned.
"""
import json
import sys
import time

from azure.core.credentials import AccessToken
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.network import NetworkManagementClient


class LocalToken:
    """The local endpoint checks that a bearer token is present, not what it is."""

    def get_token(self, *scopes, **kwargs):
        return AccessToken("flowtap-local-token", int(time.time()) + 3600)


def main(endpoint, ca_file, subscription, scale_set_id, instance_id, watcher):
    options = {"base_url": endpoint, "connection_verify": ca_file, "retry_total": 0}
    compute = ComputeManagementClient(LocalToken(), subscription, **options)
    network = NetworkManagementClient(LocalToken(), subscription, **options)
    group = scale_set_id.split("/")[4]
    name = scale_set_id.split("/")[-1]
    vm = compute.virtual_machine_scale_set_vms.get(group, name, instance_id)
    nics = network.network_interfaces.list_virtual_machine_scale_set_network_interfaces(group, name)
    body = {
        "target": scale_set_id,
        "target_type": "AzureVMSS",
        "scope": {"include": [instance_id]},
        "storage_location": {"storage_id": scale_set_id.split("/providers/")[0] + "/providers/Microsoft.Storage/"
                             + "storageAccounts/caps"},
    }
    capture = network.packet_captures.begin_create(
        "NetworkWatcherRG", watcher, "py-vmss", body, polling_interval=0.01
    ).result()
    print(json.dumps({
        "scaleSets": [scale_set.id for scale_set in compute.virtual_machine_scale_sets.list_all()],
        "vm": {"id": vm.id, "name": vm.name, "instanceId": vm.instance_id, "location": vm.location,
               "extensions": [extension.type_properties_type for extension in vm.resources or []]},
        "nics": [[nic.id, nic.mac_address, nic.virtual_machine.id] for nic in nics],
        "capture": {"targetType": capture.target_type, "scope": capture.scope.include,
                    "state": capture.provisioning_state},
    }))


if __name__ == "__main__":
    main(*sys.argv[1:])
