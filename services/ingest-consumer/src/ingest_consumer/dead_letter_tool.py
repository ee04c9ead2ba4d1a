"""``ingest-dead-letters``: inspect the dead-letter topic, and replay its messages after a fix.

    ingest-dead-letters list                       # every dead letter: where from, why, what
    ingest-dead-letters replay --dry-run           # what a replay would send back
    ingest-dead-letters replay [--reason-contains UNKNOWN_PERSON]

``replay`` produces each selected message's original key and value back to its original topic (the
ingest consumer then tries it again; storing is idempotent, so a replay never duplicates) and commits
its progress in the consumer group ``--group``, so the same dead letters are not replayed twice.
Both commands read up to the end of the topic as it was when they started, then stop.
"""

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaException, Message, Producer, TopicPartition
from google.protobuf import json_format
from google.protobuf.message import DecodeError

from ingest_consumer.settings import IngestSettings
from udaconnect.v1 import location_pb2, person_pb2
from udaconnect_common import kafka
from udaconnect_common.kafka import reliable_producer_config

REPLAYED_FROM = "dlq.replayed-from-offset"


@dataclass(frozen=True)
class DeadLetterRecord:
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: dict[str, str]

    @property
    def original_topic(self) -> str:
        return self.headers.get(kafka.DLQ_ORIGINAL_TOPIC, "")

    @property
    def reason(self) -> str:
        return self.headers.get(kafka.DLQ_REASON, "")

    def describe(self, settings: IngestSettings) -> dict[str, object]:
        return {
            "dlq_offset": f"{self.partition}:{self.offset}",
            "original": f"{self.original_topic}[{self.headers.get(kafka.DLQ_ORIGINAL_PARTITION, '?')}]"
            f"@{self.headers.get(kafka.DLQ_ORIGINAL_OFFSET, '?')}",
            "failed_at": self.headers.get(kafka.DLQ_FAILED_AT, ""),
            "reason": self.reason,
            "key": self.key.decode(errors="replace") if self.key is not None else None,
            "value": _preview(self.original_topic, self.value, settings),
        }


def _preview(topic: str, value: bytes | None, settings: IngestSettings) -> object:
    if value is None:
        return None
    raw = {"bytes": len(value), "head": value[:32].hex()}
    decoded: person_pb2.Person | location_pb2.Location
    try:
        if topic == settings.kafka_topic_persons:
            decoded = person_pb2.Person.FromString(value)
        elif topic == settings.kafka_topic_locations:
            decoded = location_pb2.Location.FromString(value)
        else:
            return raw
    except DecodeError:
        return raw  # not protobuf at all: the bytes are what there is to see
    return json_format.MessageToDict(decoded)


def _headers(message: Message) -> dict[str, str]:
    headers: dict[str, str] = {}
    raw = message.headers() or []
    for name, value in raw.items() if isinstance(raw, dict) else raw:
        headers[str(name)] = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
    return headers


def read_dead_letters(
    consumer: Consumer, topic: str, timeout: float = 10.0
) -> Iterator[tuple[Message, DeadLetterRecord]]:
    """Every message from the group's position up to the end offsets seen at the start."""
    metadata = consumer.list_topics(topic, timeout=timeout)
    if topic not in metadata.topics or metadata.topics[topic].error is not None:
        raise SystemExit(f"topic {topic} does not exist")
    partitions = list(metadata.topics[topic].partitions)
    ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout)[1] for p in partitions}
    committed = consumer.committed([TopicPartition(topic, p) for p in partitions], timeout=timeout)
    starts = {tp.partition: (tp.offset if tp.offset >= 0 else 0) for tp in committed}
    pending = {p for p in partitions if starts[p] < ends[p]}
    if not pending:
        return
    consumer.assign([TopicPartition(topic, p, starts[p]) for p in pending])
    while pending:
        message = consumer.poll(timeout)
        if message is None:
            raise SystemExit(f"no message within {timeout:.0f}s although the topic has more; is the broker up?")
        error = message.error()
        if error is not None:
            raise KafkaException(error)
        partition, offset = message.partition(), message.offset()
        if partition is None or offset is None:
            raise KafkaException(f"message without partition or offset from {topic}")
        if offset >= ends[partition]:
            pending.discard(partition)
            continue
        yield message, DeadLetterRecord(partition, offset, message.key(), message.value(), _headers(message))
        if offset + 1 >= ends[partition]:
            pending.discard(partition)


def run(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ingest-dead-letters", description=__doc__.split("\n\n")[0])
    parser.add_argument("--group", default="udaconnect-dead-letter-replay", help="consumer group of the replays")
    selection = argparse.ArgumentParser(add_help=False)
    selection.add_argument("--reason-contains", default="", help="only letters whose reason contains this")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", parents=[selection], help="print dead letters as JSON lines")
    replay = commands.add_parser("replay", parents=[selection], help="send dead letters back to their original topic")
    replay.add_argument("--dry-run", action="store_true", help="print what would be replayed, send nothing")
    args = parser.parse_args(argv)
    settings = IngestSettings()

    listing = args.command == "list" or bool(getattr(args, "dry_run", False))
    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka_bootstrap_servers,
            # Listing must not move the replay group's position: it reads under a throwaway group.
            "group.id": f"{args.group}-list" if listing else args.group,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    producer = (
        None
        if listing
        else Producer(
            reliable_producer_config(settings.kafka_bootstrap_servers, "dead-letter-replay", delivery_timeout_ms=30_000)
        )
    )
    replayed = 0
    try:
        for message, record in read_dead_letters(consumer, settings.kafka_topic_dead_letters):
            selected = args.reason_contains in record.reason
            if listing:
                if selected:
                    print(json.dumps(record.describe(settings)))
                continue
            assert producer is not None
            if selected and record.original_topic:
                producer.produce(
                    record.original_topic,
                    key=record.key,
                    value=record.value,
                    headers=[(REPLAYED_FROM, f"{record.partition}:{record.offset}".encode())],
                )
                replayed += 1
            # Committed only once everything before it has reached the broker: a crash replays again, harmlessly.
            if producer.flush(30) != 0:
                raise SystemExit("the broker did not acknowledge the replayed messages; nothing committed")
            consumer.commit(message=message, asynchronous=False)
    finally:
        consumer.close()
    if not listing:
        print(f"replayed {replayed} dead letter(s)", file=sys.stderr)
    return 0


def main() -> None:
    sys.exit(run())
