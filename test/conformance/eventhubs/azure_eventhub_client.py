"""The Python azure-eventhub client (Debian python3-azure, pure-Python AMQP) against an Event Hubs endpoint.

Usage: /usr/bin/python3 azure_eventhub_client.py '<json request>'; prints one JSON answer on stdout.
Request: {"connection_string", "hub", "ca_file", "amqps_port", "action", ...}; actions:
  properties                        hub properties and every partition's properties
  send {"events": [{"body", "partition_id"?, "partition_key"?, "properties"?}]}   one batch per event group
  receive {"partition_id", "from_sequence_number"?, "inclusive"?, "count", "timeout_s"}

The client always connects to port 5671 (azure/eventhub/_pyamqp/_connection.py passes the host name alone to
SASLTransport, whose port defaults to AMQPS_PORT). For a test endpoint on a free port, that default is the
only thing changed: every frame, the TLS handshake and the CA check stay the client's own.
"""
import json
import sys
import threading
import time

from azure.eventhub import EventData, EventHubConsumerClient, EventHubProducerClient
from azure.eventhub._pyamqp import sasl


def use_port(port):
    if port != 5671:
        sasl.SASLTransport.__init__.__kwdefaults__["port"] = port


def iso(value):
    return value.isoformat() if value is not None else None


def properties(request):
    client = EventHubProducerClient.from_connection_string(
        request["connection_string"],
        eventhub_name=request["hub"],
        connection_verify=request["ca_file"],
        retry_total=request.get("retry_total", 3),
    )
    with client:
        hub = client.get_eventhub_properties()
        partitions = [client.get_partition_properties(pid) for pid in hub["partition_ids"]]
    hub["created_at"] = iso(hub["created_at"])
    for partition in partitions:
        partition["last_enqueued_time_utc"] = iso(partition["last_enqueued_time_utc"])
    return {"hub": hub, "partitions": partitions}


def send(request):
    client = EventHubProducerClient.from_connection_string(
        request["connection_string"], eventhub_name=request["hub"], connection_verify=request["ca_file"]
    )
    sent = 0
    with client:
        for event in request["events"]:
            options = {k: event[k] for k in ("partition_id", "partition_key") if event.get(k) is not None}
            batch = client.create_batch(**options)
            data = EventData(event["body"])
            data.properties = event.get("properties") or {}
            batch.add(data)
            client.send_batch(batch)
            sent += 1
    return {"sent": sent}


def event_json(partition_id, event):
    return {
        "partition_id": partition_id,
        "body": event.body_as_str(),
        "sequence_number": event.sequence_number,
        "offset": event.offset,
        "enqueued_time": iso(event.enqueued_time),
        "partition_key": event.partition_key.decode() if isinstance(event.partition_key, bytes) else event.partition_key,
        "properties": {
            (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
            for k, v in (event.properties or {}).items()
        },
    }


def receive(request):
    client = EventHubConsumerClient.from_connection_string(
        request["connection_string"],
        consumer_group="$Default",
        eventhub_name=request["hub"],
        connection_verify=request["ca_file"],
    )
    received, errors, done = [], [], threading.Event()

    def on_event(context, event):
        if event is not None:
            received.append(event_json(context.partition_id, event))
        if len(received) >= request["count"]:
            done.set()

    def on_error(context, error):
        errors.append(f"{type(error).__name__}: {error}")
        done.set()

    # An int is a sequence number, a string an offset ("-1": the start), as EventHubConsumerClient.receive reads it.
    start = request.get("from_sequence_number")
    start = "-1" if start is None else int(start)
    worker = threading.Thread(
        target=client.receive,
        kwargs={
            "on_event": on_event,
            "on_error": on_error,
            "partition_id": request["partition_id"],
            "starting_position": start,
            "starting_position_inclusive": request.get("inclusive", False),
            "max_wait_time": 0.5,
        },
    )
    worker.start()
    done.wait(request.get("timeout_s", 20))
    client.close()
    worker.join(10)
    return {"events": received, "errors": errors}


def main():
    request = json.loads(sys.argv[1])
    use_port(request.get("amqps_port", 5671))
    action = {"properties": properties, "send": send, "receive": receive}[request["action"]]
    started = time.monotonic()
    try:
        answer = action(request)
    except Exception as error:  # the test asserts on what the client raised
        answer = {"error": {"type": type(error).__name__, "message": str(error)}}
    answer["seconds"] = round(time.monotonic() - started, 3)
    print(json.dumps(answer))


if __name__ == "__main__":
    main()
