"""``udaconnect-demo``: generate the demo conference (optionally as CSV), or load it through the HTTP APIs."""

import argparse
import dataclasses
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from udaconnect_demo.generator import BENCH, SMALL, ConferenceSpec, generate, write_csv
from udaconnect_demo.loader import MAX_BATCH_SIZE, LoadError, already_loaded, load
from udaconnect_demo.stats import encounter_stats

SIZES = {"small": SMALL, "bench": BENCH}


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _batch_size(text: str) -> int:
    value = _positive(text)
    if value > MAX_BATCH_SIZE:
        raise argparse.ArgumentTypeError(f"the location API takes at most {MAX_BATCH_SIZE} pings a batch")
    return value


def _spec(args: argparse.Namespace) -> ConferenceSpec:
    spec = SIZES[args.size]
    changes = {name: getattr(args, name) for name in ("seed", "people", "days") if getattr(args, name) is not None}
    return dataclasses.replace(spec, **changes)


def _add_spec_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--size", choices=sorted(SIZES), default="small", help="preset (default: small)")
    parser.add_argument("--seed", type=int, help="another conference of the same size")
    parser.add_argument("--people", type=_positive, help="override the preset's number of attendees")
    parser.add_argument("--days", type=_positive, help="override the preset's number of days")


def _generate(args: argparse.Namespace) -> int:
    spec = _spec(args)
    started = time.perf_counter()
    conference = generate(spec)
    if args.csv is not None:
        counts = write_csv(conference, args.csv)
        persons, pings, what = counts.persons, counts.pings, f"generated and written to {args.csv}"
    else:
        persons, pings, what = len(conference.persons), sum(1 for _ in conference.iter_pings()), "generated"
    seconds = time.perf_counter() - started
    print(f"{spec}")
    print(f"{persons:,} persons, {pings:,} pings {what} in {seconds:.2f} s ({pings / seconds:,.0f} pings/s)")
    if args.stats:
        stats = encounter_stats(conference.iter_pings(), spec.center_latitude, spec.center_longitude)
        print(f"within 5 m and 60 s: {stats}")
    return 0


def _load(args: argparse.Namespace) -> int:
    spec = _spec(args)
    if args.skip_if_loaded and already_loaded(args.person_api, spec, token=args.token):
        print(f"{args.person_api} already has persons: not loading (run without --skip-if-loaded to complete a load)")
        return 0
    report = load(
        generate(spec),
        args.person_api,
        args.location_api,
        concurrency=args.concurrency,
        batch_size=args.batch_size,
        token=args.token,
    )
    print(report)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="udaconnect-demo", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    gen = commands.add_parser("generate", help="generate the demo conference; print counts and the rate")
    _add_spec_arguments(gen)
    gen.add_argument("--csv", type=Path, help="write persons.csv and locations.csv into this folder")
    gen.add_argument("--stats", action="store_true", help="also count close encounters (slow beyond SMALL)")
    gen.set_defaults(run=_generate)

    loader = commands.add_parser("load", help="load the demo conference through the person and location APIs")
    _add_spec_arguments(loader)
    loader.add_argument("--person-api", default="http://localhost:8001", help="base URL (default: %(default)s)")
    loader.add_argument("--location-api", default="http://localhost:8002", help="base URL (default: %(default)s)")
    loader.add_argument(
        "--token",
        default=os.environ.get("UDACONNECT_TOKEN"),
        help="an organizer's bearer token (default: $UDACONNECT_TOKEN; `make up` prints one)",
    )
    loader.add_argument("--concurrency", type=_positive, default=4, help="requests in flight (default: 4)")
    loader.add_argument("--batch-size", type=_batch_size, default=1000, help="pings per request (default: 1000)")
    loader.add_argument(
        "--skip-if-loaded", action="store_true", help="do nothing when the person API already has persons"
    )
    loader.set_defaults(run=_load)

    args = parser.parse_args(argv)
    try:
        code: int = args.run(args)
    except LoadError as exc:
        print(f"udaconnect-demo: {exc}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
