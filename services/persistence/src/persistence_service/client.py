"""``persistence-client``: try the persistence service by hand.

    persistence-client health
    persistence-client save-person --first-name Ada --last-name Lovelace --company-name Analytical
    persistence-client save-location --person-id <uuid> --latitude 37.55 --longitude -122.29

The target defaults to 127.0.0.1:50051 (``--target`` or ``PERSISTENCE_ADDRESS`` to change it).
"""

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

import grpc
from google.protobuf import json_format
from grpc_health.v1 import health_pb2, health_pb2_grpc

from udaconnect.v1 import location_pb2, persistence_pb2, persistence_pb2_grpc, person_pb2
from udaconnect_common.ids import new_id
from udaconnect_common.timeconv import to_timestamp


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="persistence-client", description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", default=os.environ.get("PERSISTENCE_ADDRESS", "127.0.0.1:50051"))
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per call")
    commands = parser.add_subparsers(dest="command", required=True)
    health = commands.add_parser("health", help="ask the standard gRPC health service")
    health.add_argument("--service", default="", help="service name; empty means the whole server")
    person = commands.add_parser("save-person", help="store one person (a new id unless --id)")
    person.add_argument("--id", default=None)
    person.add_argument("--first-name", required=True)
    person.add_argument("--last-name", required=True)
    person.add_argument("--company-name", required=True)
    location = commands.add_parser("save-location", help="store one location ping")
    location.add_argument("--id", default=None)
    location.add_argument("--person-id", required=True)
    location.add_argument("--latitude", type=float, required=True)
    location.add_argument("--longitude", type=float, required=True)
    location.add_argument("--creation-time", type=datetime.fromisoformat, default=None, help="ISO 8601 with offset")
    delete = commands.add_parser("delete-person", help="forget a person and every ping (what the consumer calls)")
    delete.add_argument("person_id")
    return parser


def run(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    with grpc.insecure_channel(args.target) as channel:
        try:
            if args.command == "health":
                health_stub = health_pb2_grpc.HealthStub(channel)
                reply = health_stub.Check(  # type: ignore[attr-defined]  # the published stubs omit the methods
                    health_pb2.HealthCheckRequest(service=args.service), timeout=args.timeout
                )
                status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
                print(status)
                return 0 if reply.status == health_pb2.HealthCheckResponse.SERVING else 1
            stub = persistence_pb2_grpc.PersistenceServiceStub(channel)
            now = datetime.now(UTC)
            if args.command == "delete-person":
                deleted = stub.DeletePersons(
                    persistence_pb2.DeletePersonsRequest(person_ids=[args.person_id]), timeout=args.timeout
                )
                print(json_format.MessageToJson(deleted, always_print_fields_with_no_presence=True))
                return 0
            if args.command == "save-person":
                person = person_pb2.Person(
                    id=args.id or str(new_id()),
                    first_name=args.first_name,
                    last_name=args.last_name,
                    company_name=args.company_name,
                    created_at=to_timestamp(now),
                )
                response = stub.SavePersons(persistence_pb2.SavePersonsRequest(persons=[person]), timeout=args.timeout)
                print(json_format.MessageToJson(person))
            else:
                location = location_pb2.Location(
                    id=args.id or str(new_id()),
                    person_id=args.person_id,
                    latitude=args.latitude,
                    longitude=args.longitude,
                    creation_time=to_timestamp(args.creation_time or now),
                    received_at=to_timestamp(now),
                )
                response = stub.SaveLocations(
                    persistence_pb2.SaveLocationsRequest(locations=[location]), timeout=args.timeout
                )
                print(json_format.MessageToJson(location))
        except grpc.RpcError as error:
            print(f"{args.target}: {error.code().name}: {error.details()}", file=sys.stderr)
            return 2
    print(json_format.MessageToJson(response, always_print_fields_with_no_presence=True))
    return 0 if not response.rejections else 1


def main() -> None:
    sys.exit(run())
