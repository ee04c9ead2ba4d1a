"""``udaconnect-bench``: measure ingest and connection speed against the legacy algorithm and COPY (``make bench``).

Ends with one line per target, ``TARGET <name>: <measured> (goal <goal>) PASS`` (or ``MISS``), for scripts.
"""

import argparse
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from udaconnect_bench import report
from udaconnect_bench.run import PARTS, SERVICES, run
from udaconnect_bench.sizes import SIZES
from udaconnect_devstack.stack import REPO_ROOT

DOCUMENT = Path("docs") / "benchmarks.md"
# A quick run is for development: it must not overwrite the full run's document.
QUICK_DOCUMENT = Path(".run") / "benchmarks-quick.md"


def _service_env(values: Sequence[str]) -> dict[str, dict[str, str]]:
    env: dict[str, dict[str, str]] = {}
    for value in values:
        service, _, assignment = value.partition(":")
        name, equals, setting = assignment.partition("=")
        if service not in SERVICES or not equals or not name:
            raise argparse.ArgumentTypeError(
                f"--service-env wants SERVICE:NAME=VALUE with SERVICE one of {', '.join(SERVICES)}, got {value!r}"
            )
        env.setdefault(service, {})[name] = setting
    return env


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    """The first SIGINT or SIGTERM stops the run; later ones are ignored, so that stopping the stack it
    started (services, Kafka, PostgreSQL) is not itself cut short and leaves nothing running. A plain
    SIGTERM would otherwise end the process without any cleanup at all."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="udaconnect-bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="full", help="full (the issue's) or quick")
    parser.add_argument(
        "--service-env",
        action="append",
        default=[],
        metavar="SERVICE:NAME=VALUE",
        help="an environment override for a service of the bench's stack (repeatable): location-api:HTTP_WORKERS=2",
    )
    parser.add_argument("--output", type=Path, help=f"the report (default {DOCUMENT}; quick runs: {QUICK_DOCUMENT})")
    parser.add_argument(
        "--only",
        choices=PARTS,
        help="run one part (for trying a setting; the report then lacks the other part's targets)",
    )
    parser.add_argument("--fail-on-miss", action="store_true", help="exit with 1 when a target is missed")
    args = parser.parse_args(argv)
    try:
        service_env = _service_env(args.service_env)
    except argparse.ArgumentTypeError as exc:
        parser.error(str(exc))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", datefmt="%H:%M:%S")
    # One line per request would drown the progress lines.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    size = SIZES[args.size]
    output = args.output or REPO_ROOT / (DOCUMENT if size.name == "full" else QUICK_DOCUMENT)

    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        result = run(size, service_env, parts=(args.only,) if args.only else PARTS)
    except KeyboardInterrupt as stopped:
        logging.getLogger(__name__).warning("stopped by %s; the stack it started is stopped too", stopped)
        return 130

    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(report.markdown(result), encoding="utf-8")
    print(report.console(result))
    print(f"\nreport written to {output.relative_to(REPO_ROOT) if output.is_relative_to(REPO_ROOT) else output}")
    print(report.target_lines(result.targets), flush=True)
    missed = any(not target.passed for target in result.targets)
    return 1 if missed and args.fail_on_miss else 0


if __name__ == "__main__":
    sys.exit(main())
