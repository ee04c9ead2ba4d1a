"""A real single-node Apache Kafka (KRaft, broker+controller) run as a local child process.

The broker comes from Maven Central jars (infra/kafka/pom.xml -> infra/kafka/libs), not a tarball:
`kafka.Kafka` starts it and `kafka.tools.StorageTool` formats its storage.
"""

import base64
import fcntl
import logging
import os
import re
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from xml.etree import ElementTree

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient

# NewTopic is defined in the C extension; confluent_kafka.admin re-exports it without
# declaring it, which strict mypy rejects.
from confluent_kafka.cimpl import NewTopic

from udaconnect_devstack._process import (
    ChildServer,
    log_tail,
    run_checked,
    spawn,
    stop_process,
)
from udaconnect_devstack.errors import InfrastructureError
from udaconnect_devstack.ports import is_port_open, require_free_port

log = logging.getLogger(__name__)

MIN_JAVA_MAJOR = 17  # Kafka 4.x brokers need Java 17+
_NODE_ID = 1
_HOST = "127.0.0.1"
_JVM_ROOT = Path("/usr/lib/jvm")
_POM_NAMESPACE = {"m": "http://maven.apache.org/POM/4.0.0"}


# -- Java & jars -------------------------------------------------------------------------------------


def java_major_version(java: Path) -> int:
    """Major version of a `java` binary ("1.8.0_x" -> 8, "17.0.15" -> 17)."""
    output = run_checked([str(java), "-version"], what=f"{java} -version", cwd=Path("/"), timeout=60)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', output)
    if match is None:
        raise InfrastructureError(f"cannot tell the version of {java} from:\n{output}")
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def find_java(min_major: int = MIN_JAVA_MAJOR) -> Path:
    """Return a `java` of at least `min_major`.

    $JAVA_HOME and then PATH express the user's choice, so the first of those that is new enough
    wins; otherwise the newest JVM under /usr/lib/jvm (Debian installs several side by side).
    """
    seen: list[str] = []
    preferred: list[Path] = []
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        preferred.append(Path(java_home) / "bin" / "java")
    on_path = shutil.which("java")
    if on_path is not None:
        preferred.append(Path(on_path))
    for java in preferred:
        if java.is_file():
            major = java_major_version(java)
            if major >= min_major:
                return java
            seen.append(f"{java} (Java {major})")
    best: tuple[int, Path] | None = None
    if _JVM_ROOT.is_dir():
        for java in sorted(_JVM_ROOT.glob("*/bin/java")):
            major = java_major_version(java)
            seen.append(f"{java} (Java {major})")
            if major >= min_major and (best is None or major > best[0]):
                best = (major, java)
    if best is None:
        raise InfrastructureError(
            f"Kafka needs Java >= {min_major}; found {', '.join(seen) or 'none'}. Run scripts/bootstrap.sh"
        )
    return best[1]


def kafka_version(pom: Path) -> str:
    """The Kafka version the pom asks for (its ``kafka.version`` property)."""
    # The repository's own pom, not untrusted input.
    found = ElementTree.parse(pom).getroot().find("m:properties/m:kafka.version", _POM_NAMESPACE)  # noqa: S314
    if found is None or not found.text:
        raise InfrastructureError(f"{pom} names no kafka.version property")
    return found.text.strip()


def _has_kafka_jar(libs_dir: Path, version: str) -> bool:
    return (libs_dir / f"kafka_2.13-{version}.jar").is_file()


def ensure_kafka_libs(kafka_dir: Path) -> Path:
    """Make sure `kafka_dir/libs` holds the broker jars of the pom's version (running `mvn -B -q package`
    if not, into an emptied folder: jars of two versions on one class path would mix); return it."""
    libs_dir = kafka_dir / "libs"
    pom = kafka_dir / "pom.xml"
    if not pom.is_file():
        raise InfrastructureError(f"no {pom}: cannot build the Kafka broker jars")
    version = kafka_version(pom)
    if _has_kafka_jar(libs_dir, version):
        return libs_dir
    mvn = shutil.which("mvn")
    if mvn is None:
        raise InfrastructureError("Maven (mvn) is not installed; run scripts/bootstrap.sh")
    # Lock the pom (read-only open, so no extra file appears): parallel test workers must not run
    # two Maven builds into the same libs/ folder.
    with pom.open("rb") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not _has_kafka_jar(libs_dir, version):
                shutil.rmtree(libs_dir, ignore_errors=True)
                started = time.monotonic()
                run_checked(
                    [mvn, "-B", "-q", "-Dstyle.color=never", "package"],
                    what="building Kafka jars with Maven",
                    cwd=kafka_dir,
                    timeout=1800,
                )
                log.info("Maven fetched the Kafka jars in %.0fs", time.monotonic() - started)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    if not _has_kafka_jar(libs_dir, version):
        raise InfrastructureError(f"Maven finished but {libs_dir} has no kafka_2.13-{version}.jar")
    return libs_dir


def _new_cluster_id() -> str:
    """A Kafka cluster id, made like org.apache.kafka.common.Uuid.randomUuid (22 chars of base64url).

    Made here rather than with `StorageTool random-uuid` to save a JVM start. Like Kafka, reject ids
    starting with '-' (a command line would read them as an option).
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode("ascii").rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def _property_value(value: str) -> str:
    """Escape a value for a Java .properties file, which Kafka reads as ISO-8859-1."""
    out: list[str] = []
    for index, char in enumerate(value):
        if char == "\\":
            out.append("\\\\")
        elif char in _PROPERTY_ESCAPES:
            out.append(_PROPERTY_ESCAPES[char])
        elif char == " " and index == 0:
            out.append("\\ ")  # a leading blank would be taken as separator whitespace
        elif ord(char) > 0x7E:
            # \uXXXX per UTF-16 code unit, so non-ASCII paths survive the ISO-8859-1 reader.
            units = char.encode("utf-16-be")
            out.extend(f"\\u{units[i]:02x}{units[i + 1]:02x}" for i in range(0, len(units), 2))
        else:
            out.append(char)
    return "".join(out)


_PROPERTY_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _read_cluster_id(meta_properties: Path) -> str:
    for line in meta_properties.read_text(encoding="latin-1").splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() == "cluster.id":
            return value.strip()
    raise InfrastructureError(f"{meta_properties} has no cluster.id; remove the Kafka home to start afresh")


# -- broker ------------------------------------------------------------------------------------------


class KafkaBroker(ChildServer):
    """One combined broker+controller KRaft node in `home`, listening on 127.0.0.1.

    Storage is formatted once (cluster id kept in `home/cluster.id`) and reused by later starts.
    """

    default_start_timeout = 90.0

    def __init__(
        self,
        home: Path,
        port: int,
        controller_port: int,
        libs_dir: Path,
        log4j_config: Path,
        heap: str = "512m",
        *,
        node_id: int = _NODE_ID,
        voters: Mapping[int, int] | None = None,
    ) -> None:
        """``voters``: node id -> controller port of every node of a cluster (:class:`KafkaCluster`); by
        default this node alone."""
        self.home = home.absolute()
        self.port = port
        self.controller_port = controller_port
        self.node_id = node_id
        self.voters = dict(voters) if voters else {node_id: controller_port}
        self.libs_dir = libs_dir.absolute()
        self.log4j_config = log4j_config.absolute()
        self.heap = heap
        self.log_path = self.home / "kafka.log"
        self.data_dir = self.home / "data"
        self.config_path = self.home / "server.properties"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"{_HOST}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.is_running() and self._proc is not None else None

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self, timeout: float = 90.0) -> None:
        """Write the config, format storage on first use, start the JVM and wait for the broker."""
        started = time.monotonic()
        cluster_id = self.launch()
        self.wait_ready(timeout, cluster_id, started)

    def launch(self) -> str:
        """Everything :meth:`start` does but the wait (a cluster's nodes must all run before any is ready);
        the cluster id."""
        if self.is_running():
            raise InfrastructureError(f"Kafka on port {self.port} is already running (pid {self.pid})")
        if not any(self.libs_dir.glob("kafka_2.13-*.jar")):
            raise InfrastructureError(
                f"{self.libs_dir} has no Kafka jar; build it with ensure_kafka_libs() or scripts/bootstrap.sh"
            )
        if not self.log4j_config.is_file():
            raise InfrastructureError(f"log4j2 config {self.log4j_config} does not exist")
        self.home.mkdir(parents=True, exist_ok=True)
        java = find_java()
        self._write_config()
        for port in (self.port, self.controller_port):
            require_free_port(_HOST, port, "Kafka")
        cluster_id = self._format_storage(java)

        argv = [*self._jvm(java), "kafka.Kafka", str(self.config_path)]
        self._proc = spawn(argv, log_path=self.log_path, cwd=self.home)
        return cluster_id

    def wait_ready(self, timeout: float, cluster_id: str, started: float) -> None:
        assert self._proc is not None
        try:
            self._wait_ready(timeout, cluster_id)
        except BaseException:
            # Don't leave a half-started JVM behind holding the ports and the log dir lock.
            self._kill_after_failure()
            raise
        log.info(
            "Kafka ready on %s after %.1fs (pid %d)", self.bootstrap_servers, time.monotonic() - started, self._proc.pid
        )

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM (controlled shutdown, logs flushed); SIGKILL after `timeout`. Data is kept. The exit status."""
        proc = self._proc
        if proc is None:
            return None
        status = stop_process(proc, name="kafka", graceful_signal=signal.SIGTERM, timeout=timeout)
        self._proc = None
        return status

    # -- topics ------------------------------------------------------------------------------------

    def create_topics(
        self,
        topics: Mapping[str, int],
        replication_factor: int = 1,
        timeout: float = 30,
        config: Mapping[str, str] | None = None,
    ) -> None:
        """Create topics (name -> partitions) unless they exist; wait until every partition has a leader.

        An existing topic with a different partition count is an error: silently using it would
        change the ordering/parallelism the caller asked for.
        """
        if not topics:
            return
        for name, partitions in topics.items():
            if partitions < 1:
                raise ValueError(f"topic {name!r}: partitions must be >= 1, got {partitions}")
        deadline = time.monotonic() + timeout
        with self.admin_client() as admin:
            new_topics = [
                NewTopic(
                    name, num_partitions=partitions, replication_factor=replication_factor, config=dict(config or {})
                )
                for name, partitions in topics.items()
            ]
            futures = admin.create_topics(new_topics, operation_timeout=timeout, request_timeout=timeout)
            for name, future in futures.items():
                try:
                    future.result(timeout=timeout)
                except KafkaException as exc:
                    error = exc.args[0] if exc.args else None
                    if isinstance(error, KafkaError) and error.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                        continue  # idempotent: someone (an earlier run) created it already
                    raise InfrastructureError(f"creating Kafka topic {name!r} failed: {error or exc}") from exc
            self._wait_for_topics(admin, topics, deadline, timeout)

    def admin_client(self) -> AdminClient:
        return AdminClient({"bootstrap.servers": self.bootstrap_servers})

    # -- internals ---------------------------------------------------------------------------------

    def _jvm(self, java: Path) -> list[str]:
        return [
            str(java),
            f"-Xms{self.heap}",
            f"-Xmx{self.heap}",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.log4j_config}",
            f"-Dkafka.logs.dir={self.home}",
            "-cp",
            # The JVM expands the wildcard itself (no shell involved), as Kafka's scripts rely on.
            f"{self.libs_dir}/*",
        ]

    def _write_config(self) -> None:
        # Internal topics are replicated across the cluster, up to 3 (a single node: 1).
        replicas = str(min(3, len(self.voters)))
        in_sync = str(min(2, len(self.voters)))
        settings: dict[str, str] = {
            "process.roles": "broker,controller",
            "node.id": str(self.node_id),
            # Static quorum: works with a plain `format` (no --standalone) on Kafka 3.9 and 4.x.
            "controller.quorum.voters": ",".join(
                f"{node}@{_HOST}:{port}" for node, port in sorted(self.voters.items())
            ),
            "listeners": f"PLAINTEXT://{_HOST}:{self.port},CONTROLLER://{_HOST}:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://{_HOST}:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(self.data_dir),
            "num.partitions": "3",
            "auto.create.topics.enable": "false",  # the project creates its topics explicitly
            "default.replication.factor": replicas,
            "min.insync.replicas": in_sync,
            # Internal topics default to RF 3 (and min ISR 2), which a single broker can never satisfy.
            "offsets.topic.replication.factor": replicas,
            # 50 partitions by default: the first consumer-group join would wait for all of them.
            "offsets.topic.num.partitions": "1",
            "transaction.state.log.replication.factor": replicas,
            "transaction.state.log.min.isr": in_sync,
            "share.coordinator.state.topic.replication.factor": replicas,
            "share.coordinator.state.topic.min.isr": in_sync,
            # Consumers in tests should get partitions at once, not after the default 3s delay.
            "group.initial.rebalance.delay.ms": "0",
            # After a crash (kill()) the restarted controller refuses the broker's new registration
            # until the old session expires: 9s by default, 3s here, so chaos tests recover quickly.
            # Heartbeats stay well inside it so a GC pause on a busy 2-core box does not fence us.
            "broker.session.timeout.ms": "3000",
            "broker.heartbeat.interval.ms": "500",
        }
        lines = ["# Written by udaconnect_devstack.kafka.KafkaBroker on every start; edits are overwritten."]
        lines += [f"{key}={_property_value(value)}" for key, value in settings.items()]
        tmp = self.config_path.with_suffix(".tmp")
        tmp.write_text("\n".join(lines) + "\n", encoding="ascii")
        tmp.replace(self.config_path)

    def _format_storage(self, java: Path) -> str:
        """Format the log dir unless an earlier start did; return the cluster id."""
        cluster_file = self.home / "cluster.id"
        meta = self.data_dir / "meta.properties"
        if meta.is_file():
            # Formatting again is never needed; the storage's own id is the truth.
            return _read_cluster_id(meta)
        if cluster_file.is_file():
            cluster_id = cluster_file.read_text(encoding="ascii").strip()
        else:
            cluster_id = _new_cluster_id()
            cluster_file.write_text(cluster_id + "\n", encoding="ascii")
        argv = [
            *self._jvm(java),
            "kafka.tools.StorageTool",
            "format",
            "-t",
            cluster_id,
            "-c",
            str(self.config_path),
            "-g",
        ]
        started = time.monotonic()
        output = run_checked(argv, what="formatting Kafka storage", cwd=self.home, timeout=120)
        with self.log_path.open("a", encoding="utf-8") as fh:
            fh.write(f"\n=== storage format (cluster id {cluster_id}):\n{output}")
        log.info("formatted Kafka storage in %s in %.1fs", self.data_dir, time.monotonic() - started)
        return cluster_id

    def _wait_ready(self, timeout: float, cluster_id: str) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + timeout
        # First the TCP port: cheap, and it keeps librdkafka from logging connection errors while
        # the JVM boots.
        while not is_port_open(_HOST, self.port):
            self._check_alive()
            if time.monotonic() >= deadline:
                raise self._timeout_error(timeout, "the broker port never opened")
            time.sleep(0.1)
        last_error: Exception | None = None
        with self.admin_client() as admin:
            while True:
                self._check_alive()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise self._timeout_error(timeout, f"last error: {last_error}")
                try:
                    metadata = admin.list_topics(timeout=min(5.0, remaining))
                    if metadata.cluster_id != cluster_id:
                        # Another broker answers on our port (ours will die on bind): fail now
                        # rather than hand out a broker that is not ours.
                        raise InfrastructureError(
                            f"{self.bootstrap_servers} is served by another Kafka cluster "
                            f"({metadata.cluster_id}), not ours ({cluster_id}); "
                            f"log {self.log_path}:\n{log_tail(self.log_path)}"
                        )
                    if self.node_id in metadata.brokers:
                        return
                    last_error = InfrastructureError(f"broker {self.node_id} not in metadata: {metadata.brokers}")
                except KafkaException as exc:
                    # Expected while the broker is still unfenced/starting; kept for the timeout message.
                    last_error = exc
                time.sleep(0.1)

    def _wait_for_topics(self, admin: AdminClient, topics: Mapping[str, int], deadline: float, timeout: float) -> None:
        pending: dict[str, str] = {}
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise InfrastructureError(
                    f"Kafka topics not ready after {timeout:.0f}s: "
                    + "; ".join(f"{name}: {why}" for name, why in pending.items())
                )
            try:
                metadata = admin.list_topics(timeout=min(5.0, remaining))
            except KafkaException as exc:
                pending = {name: f"metadata request failed: {exc}" for name in topics}
                time.sleep(0.1)
                continue
            pending = {}
            for name, partitions in topics.items():
                topic = metadata.topics.get(name)
                if topic is None:
                    pending[name] = "not in metadata yet"
                elif topic.error is not None:
                    pending[name] = str(topic.error)
                elif topic.partitions and len(topic.partitions) != partitions:
                    raise InfrastructureError(
                        f"Kafka topic {name!r} exists with {len(topic.partitions)} partitions, expected {partitions}"
                    )
                elif len(topic.partitions) != partitions or any(
                    p.leader < 0 or p.error is not None for p in topic.partitions.values()
                ):
                    pending[name] = "partitions without a leader yet"
            if not pending:
                return
            time.sleep(0.1)

    def _check_alive(self) -> None:
        assert self._proc is not None
        code = self._proc.poll()
        if code is not None:
            raise InfrastructureError(
                f"Kafka exited with code {code} while starting on {self.bootstrap_servers}; "
                f"log {self.log_path}:\n{log_tail(self.log_path)}"
            )

    def _timeout_error(self, timeout: float, detail: str) -> InfrastructureError:
        return InfrastructureError(
            f"Kafka on {self.bootstrap_servers} not ready after {timeout:.0f}s ({detail}); "
            f"log {self.log_path}:\n{log_tail(self.log_path)}"
        )

    def _kill_after_failure(self) -> None:
        """Cleanup while another exception is already propagating."""
        try:
            self.kill()
        except Exception:
            # The startup error matters more; this one is logged, not silently dropped.
            log.exception("could not kill Kafka after a failed start")


class KafkaCluster:
    """Several combined broker+controller KRaft nodes from the same jars, one controller quorum: for the
    tests that lose a broker. Topics get a replication factor of 3 (at most the node count) and
    ``min.insync.replicas`` 2, as in production."""

    def __init__(
        self, home: Path, ports: Sequence[tuple[int, int]], libs_dir: Path, log4j_config: Path, heap: str = "384m"
    ) -> None:
        """``ports``: (broker port, controller port) of each node."""
        voters = {node: controller for node, (_, controller) in enumerate(ports, start=1)}
        self.home = home.absolute()
        self.nodes = [
            KafkaBroker(
                self.home / f"node-{node}",
                port,
                controller,
                libs_dir,
                log4j_config,
                heap,
                node_id=node,
                voters=voters,
            )
            for node, (port, controller) in enumerate(ports, start=1)
        ]

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(node.bootstrap_servers for node in self.nodes)

    @property
    def replication_factor(self) -> int:
        return min(3, len(self.nodes))

    @property
    def pid(self) -> int | None:
        return self.nodes[0].pid

    def is_running(self) -> bool:
        return any(node.is_running() for node in self.nodes)

    def start(self, timeout: float = 120.0) -> None:
        """Every node shares one cluster id; all are launched before any is waited for, since a controller
        quorum elects a leader only once a majority runs."""
        self.home.mkdir(parents=True, exist_ok=True)
        cluster_file = self.home / "cluster.id"
        if not cluster_file.is_file():
            cluster_file.write_text(_new_cluster_id() + "\n", encoding="ascii")
        for node in self.nodes:
            node.home.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(cluster_file, node.home / "cluster.id")
        started = time.monotonic()
        cluster_ids = [node.launch() for node in self.nodes]
        for node, cluster_id in zip(self.nodes, cluster_ids, strict=True):
            node.wait_ready(timeout, cluster_id, started)

    def stop(self, timeout: float = 30.0) -> None:
        for node in self.nodes:
            node.stop(timeout)

    def create_topics(
        self,
        topics: Mapping[str, int],
        replication_factor: int | None = None,
        timeout: float = 60,
        config: Mapping[str, str] | None = None,
    ) -> None:
        in_sync = {"min.insync.replicas": str(min(2, self.replication_factor))}
        self.nodes[0].create_topics(
            topics, replication_factor or self.replication_factor, timeout, {**in_sync, **(config or {})}
        )

    def admin_client(self) -> AdminClient:
        return AdminClient({"bootstrap.servers": self.bootstrap_servers})
