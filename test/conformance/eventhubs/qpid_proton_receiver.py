"""A raw Qpid Proton client (Debian python3-qpid-proton) reading one partition of an Event Hubs endpoint.

Usage: /usr/bin/python3 qpid_proton_receiver.py '<json request>'; prints one JSON answer on stdout.
Request: {"host", "port", "ca_file", "key_name", "key", "hub", "partition_id", "from_sequence_number", "count"}.
It does what the Event Hubs AMQP guide describes for a plain AMQP 1.0 client: AMQPS with the server's
certificate checked against the CA and its name, SASL PLAIN with the shared access key name and key, a
receiver on `<hub>/ConsumerGroups/$Default/Partitions/<id>` with an `apache.org:selector-filter:string`
filter, and the service's annotations read from each message.
"""
import json
import sys

from proton import SSLDomain
from proton.reactor import Selector
from proton.utils import BlockingConnection


def main():
    request = json.loads(sys.argv[1])
    domain = SSLDomain(SSLDomain.MODE_CLIENT)
    domain.set_trusted_ca_db(request["ca_file"])
    domain.set_peer_authentication(SSLDomain.VERIFY_PEER_NAME)
    connection = BlockingConnection(
        f"amqps://{request['host']}:{request['port']}",
        ssl_domain=domain,
        user=request["key_name"],
        password=request["key"],
        allowed_mechs="PLAIN",
        timeout=20,
    )
    address = f"{request['hub']}/ConsumerGroups/$Default/Partitions/{request['partition_id']}"
    selector = Selector(f"amqp.annotation.x-opt-sequence-number >= '{request['from_sequence_number']}'")
    receiver = connection.create_receiver(address, credit=request["count"], options=selector)
    messages = []
    for _ in range(request["count"]):
        message = receiver.receive(timeout=20)
        annotations = message.annotations or {}
        body = message.body
        messages.append(
            {
                "body": bytes(body).decode() if isinstance(body, (bytes, memoryview)) else str(body),
                "sequence_number": annotations["x-opt-sequence-number"],
                "sequence_number_type": type(annotations["x-opt-sequence-number"]).__name__,
                "offset": annotations["x-opt-offset"],
                "offset_type": type(annotations["x-opt-offset"]).__name__,
                "enqueued_time_type": type(annotations["x-opt-enqueued-time"]).__name__,
                "enqueued_time_ms": int(annotations["x-opt-enqueued-time"]),
            }
        )
        receiver.accept()
    remote_source = receiver.link.remote_source.address
    remote_target = receiver.link.remote_target.address
    connection.close()
    print(json.dumps({"messages": messages, "remote_source": remote_source, "remote_target": remote_target}))


if __name__ == "__main__":
    main()
