"""What the figures were measured on: the machine (from /proc) and the versions of everything in the path."""

import importlib.util
import os
import platform
import re
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import confluent_kafka
import psycopg

from udaconnect_devstack.stack import REPO_ROOT

KEY_LIBRARIES = (
    "fastapi",
    "uvicorn",
    "pydantic",
    "sqlalchemy",
    "psycopg",
    "geoalchemy2",
    "grpcio",
    "protobuf",
    "confluent-kafka",
    "httpx",
    "py-spy",
)


@dataclass(frozen=True)
class Machine:
    cpu_model: str
    cores: int
    memory_gib: float
    kernel: str
    load_average: tuple[float, float, float]


@dataclass(frozen=True)
class Versions:
    postgresql: str
    postgis: str
    kafka: str
    python: str
    librdkafka: str
    wrk: str
    libraries: dict[str, str]


def machine() -> Machine:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    meminfo = Path("/proc/meminfo").read_text()
    total_kib = re.search(r"^MemTotal:\s*(\d+) kB", meminfo, re.MULTILINE)
    return Machine(
        cpu_model=model.group(1).strip() if model else platform.processor() or "unknown",
        cores=os.cpu_count() or 0,
        memory_gib=int(total_kib.group(1)) / 1024 / 1024 if total_kib else 0.0,
        kernel=platform.release(),
        load_average=os.getloadavg(),
    )


def _kafka_version() -> str:
    jars = sorted((REPO_ROOT / "infra" / "kafka" / "libs").glob("kafka_2.13-*.jar"))
    if not jars:
        return "unknown"
    return jars[-1].name.removeprefix("kafka_2.13-").removesuffix(".jar") + " (KRaft, Scala 2.13 build)"


def _wrk_version() -> str:
    result = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    first = (result.stdout or result.stderr).splitlines()
    return first[0].split(" [")[0].removeprefix("wrk ").strip() if first else "unknown"


def versions(owner_dsn: str) -> Versions:
    with psycopg.connect(owner_dsn) as conn:
        pg_row = conn.execute("SHOW server_version").fetchone()
        postgis_row = conn.execute(
            "SELECT postgis_lib_version(), postgis_geos_version(), postgis_proj_version()"
        ).fetchone()
    if pg_row is None or postgis_row is None:
        raise RuntimeError("PostgreSQL did not report its or PostGIS's version")
    libraries = {name: metadata.version(name) for name in KEY_LIBRARIES}
    # uvicorn picks its event loop and HTTP parser from what is installed: say which it ran with.
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    parser = "httptools" if importlib.util.find_spec("httptools") else "h11"
    libraries["uvicorn"] += f" ({loop} event loop, {parser} HTTP parser)"
    return Versions(
        postgresql=str(pg_row[0]),
        postgis=f"{postgis_row[0]} (GEOS {postgis_row[1]}, PROJ {postgis_row[2]})",
        kafka=_kafka_version(),
        python=platform.python_version(),
        librdkafka=confluent_kafka.libversion()[0],
        wrk=_wrk_version(),
        libraries=libraries,
    )
