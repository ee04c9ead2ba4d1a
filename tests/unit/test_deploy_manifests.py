"""The Kubernetes manifests (``deploy/k8s``), rendered with ``kubectl kustomize`` and checked offline.

Every overlay is rendered and its objects checked against the code they deploy: env var names against
the services' settings classes (one source of truth), ports and probes against the settings' defaults
and the Dockerfiles, topic names against ``CommonSettings``, the consumer's autoscaling against the
locations topic's partitions, and the security context, resources, NetworkPolicies and replication
every production object needs.

Schemas: core objects are validated against the Kubernetes JSON schemas of ``kubernetes-validate`` when
it is installed (the test is skipped otherwise). The Strimzi (``kafka.strimzi.io``) and CloudNativePG
(``postgresql.cnpg.io``) objects against their CRDs' ``openAPIV3Schema``, vendored in ``crd_schemas/``
(its README says from where), as strictly as the API server's strict field validation.
"""

import copy
import functools
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator
from pydantic_settings import BaseSettings

from connection_api.settings import ConnectionApiSettings
from ingest_consumer.settings import IngestSettings
from location_api.settings import LocationApiSettings
from persistence_service.settings import PersistenceSettings
from person_api.settings import PersonApiSettings
from udaconnect_common.settings import CommonSettings
from udaconnect_devstack.kafka import kafka_version

# Not typed (no stubs in the environment); only safe_load_all is used.
yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
OVERLAYS = sorted(path.name for path in (K8S / "overlays").iterdir() if (path / "kustomization.yaml").is_file())

# Image name (its last path component) -> the settings class of what the image runs. The folder of the
# same name under deploy/docker/ holds the image's Dockerfile, under services/ its code.
SETTINGS: dict[str, type[BaseSettings]] = {
    "person-api": PersonApiSettings,
    "location-api": LocationApiSettings,
    "connection-api": ConnectionApiSettings,
    "ingest-consumer": IngestSettings,
    "persistence": PersistenceSettings,
}
HTTP_APIS = ("person-api", "location-api", "connection-api")
# Not settings of ours: libpq reads them, so the database credentials stay out of DATABASE_URL.
LIBPQ_ENV = frozenset({"PGUSER", "PGPASSWORD"})
# What CloudNativePG itself makes for the Cluster's owner role; every other Secret is in the template.
OPERATOR_SECRETS = frozenset({"udaconnect-db-app"})
CRD_GROUPS = ("kafka.strimzi.io", "postgresql.cnpg.io")
CRD_SCHEMAS = Path(__file__).parent / "crd_schemas"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "Job")

Obj = dict[str, Any]


def setting_names(settings: type[BaseSettings]) -> set[str]:
    """The environment variable names a settings class reads (pydantic-settings: the field, upper-cased)."""
    return {name.upper() for name in settings.model_fields}


def setting_default(settings: type[BaseSettings], name: str) -> Any:
    return settings.model_fields[name].default


def frontend_env_names() -> set[str]:
    """What the front end image's start-up script reads: the only settings it has."""
    script = (DEPLOY / "docker" / "frontend" / "write-config.sh").read_text()
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", script))


def image_name(image: str) -> str:
    """``registry.example.com/udaconnect/person-api:0.1.0`` -> ``person-api``."""
    without_digest = image.split("@", 1)[0]
    last = without_digest.rsplit("/", 1)[-1]
    return last.split(":", 1)[0]


def is_pinned(image: str) -> bool:
    """A digest, or an explicit tag other than latest."""
    if "@sha256:" in image:
        return True
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return False
    tag = last.split(":", 1)[1]
    return tag != "latest" and any(ch.isdigit() for ch in tag)


@functools.cache
def _render(overlay: str) -> tuple[Obj, ...]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed: cannot render the kustomize overlays (kustomize is built into kubectl)")
    result = subprocess.run(
        [kubectl, "kustomize", str(K8S / "overlays" / overlay)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"kubectl kustomize {overlay} failed:\n{result.stderr}"
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def render(overlay: str) -> tuple[Obj, ...]:
    return _render(overlay)


@pytest.fixture(params=OVERLAYS)
def objects(request: pytest.FixtureRequest) -> tuple[Obj, ...]:
    overlay: str = request.param
    return render(overlay)


def of_kind(objs: tuple[Obj, ...], kind: str) -> list[Obj]:
    return [obj for obj in objs if obj["kind"] == kind]


def named(objs: tuple[Obj, ...], kind: str, name: str) -> Obj:
    found = [obj for obj in of_kind(objs, kind) if obj["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def config_data(objs: tuple[Obj, ...], name: str) -> dict[str, str]:
    """A generated ConfigMap's data, by the name before kustomize's content hash."""
    found = [
        c
        for c in of_kind(objs, "ConfigMap")
        if re.fullmatch(rf"{re.escape(name)}(-[a-z0-9]{{10}})?", c["metadata"]["name"])
    ]
    assert len(found) == 1, f"expected one ConfigMap {name}, found {len(found)}"
    data: dict[str, str] = found[0].get("data", {})
    return data


def workloads(objs: tuple[Obj, ...]) -> list[Obj]:
    return [obj for obj in objs if obj["kind"] in WORKLOAD_KINDS]


def pod_spec(workload: Obj) -> Obj:
    spec: Obj = workload["spec"]["template"]["spec"]
    return spec


def pod_labels(workload: Obj) -> dict[str, str]:
    labels: dict[str, str] = workload["spec"]["template"]["metadata"].get("labels", {})
    return labels


def containers(objs: tuple[Obj, ...]) -> Iterator[tuple[Obj, Obj]]:
    for workload in workloads(objs):
        spec = pod_spec(workload)
        for container in spec.get("initContainers", []) + spec["containers"]:
            yield workload, container


def resolved_env(objs: tuple[Obj, ...], container: Obj) -> dict[str, str | None]:
    """Every env var a container gets: its own (None when from a Secret or a field) and its ConfigMaps'."""
    env: dict[str, str | None] = {}
    for source in container.get("envFrom", []):
        assert "configMapRef" in source, f"{container['name']}: envFrom only from ConfigMaps, secrets by key"
        env.update(named(objs, "ConfigMap", source["configMapRef"]["name"]).get("data", {}))
    for var in container.get("env", []):
        env[var["name"]] = var.get("value")
    return env


def selects(selector: Obj, labels: dict[str, str]) -> bool:
    """Whether a label selector (matchLabels and matchExpressions with In) selects these labels."""
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        assert expression["operator"] == "In", "only In is evaluated here"
        if labels.get(expression["key"]) not in expression["values"]:
            return False
    return True


def workload_names_selected(objs: tuple[Obj, ...], selector: Obj) -> set[str]:
    return {w["metadata"]["name"] for w in workloads(objs) if selects(selector, pod_labels(w))}


def test_dev_and_prod_overlays_exist() -> None:
    assert {"dev", "prod"} <= set(OVERLAYS)


def test_every_container_has_probes_resources_and_a_restricted_security_context(objects: tuple[Obj, ...]) -> None:
    for workload in workloads(objects):
        pod = pod_spec(workload)
        where = f"{workload['kind']} {workload['metadata']['name']}"
        assert pod["securityContext"]["runAsNonRoot"] is True, where
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, where
        assert pod["securityContext"]["runAsUser"] > 0, where
        assert pod.get("automountServiceAccountToken") is False, f"{where}: no service uses the Kubernetes API"
    for workload, container in containers(objects):
        where = f"{workload['metadata']['name']}/{container['name']}"
        security = container["securityContext"]
        assert security["allowPrivilegeEscalation"] is False, where
        assert security["readOnlyRootFilesystem"] is True, where
        assert security["capabilities"] == {"drop": ["ALL"]}, where
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(container["resources"][kind]), f"{where}: {kind}"
        # A read-only root filesystem: /tmp must be a volume.
        assert any(mount["mountPath"] == "/tmp" for mount in container.get("volumeMounts", [])), where  # noqa: S108
        if workload["kind"] != "Job":
            assert "readinessProbe" in container, where
            assert "livenessProbe" in container, where


def test_images_are_pinned_and_built_from_this_repository(objects: tuple[Obj, ...]) -> None:
    for workload, container in containers(objects):
        image = container["image"]
        assert is_pinned(image), f"{workload['metadata']['name']}: {image} is not pinned"
        name = image_name(image)
        assert (DEPLOY / "docker" / name / "Dockerfile").is_file(), f"{image}: no deploy/docker/{name}/Dockerfile"
    for cluster in of_kind(objects, "Cluster"):
        assert is_pinned(cluster["spec"]["imageName"]), cluster["spec"]["imageName"]


def test_env_var_names_are_the_settings_of_what_runs(objects: tuple[Obj, ...]) -> None:
    for workload, container in containers(objects):
        name = image_name(container["image"])
        known = frontend_env_names() if name == "frontend" else setting_names(SETTINGS[name]) | LIBPQ_ENV
        unknown = set(resolved_env(objects, container)) - known
        assert not unknown, f"{workload['metadata']['name']}: not settings of {name}: {sorted(unknown)}"


def test_auth_is_never_disabled() -> None:
    for path in DEPLOY.rglob("*"):
        if path.is_file():
            assert "AUTH_DISABLED" not in path.read_text(errors="replace").upper(), path.relative_to(ROOT)
    for overlay in OVERLAYS:
        assert "AUTH_DISABLED" not in yaml.safe_dump_all(render(overlay)).upper(), overlay


def test_apis_verify_tokens(objects: tuple[Obj, ...]) -> None:
    for workload, container in containers(objects):
        if image_name(container["image"]) in HTTP_APIS:
            env = resolved_env(objects, container)
            assert env.get("AUTH_JWKS_URL") or env.get("AUTH_PUBLIC_KEY_FILE"), workload["metadata"]["name"]


def test_services_listen_on_every_interface(objects: tuple[Obj, ...]) -> None:
    hosts = {"ingest-consumer": "METRICS_HOST", "persistence": "GRPC_HOST"} | dict.fromkeys(HTTP_APIS, "HTTP_HOST")
    for workload, container in containers(objects):
        if workload["kind"] == "Job":
            continue
        name = image_name(container["image"])
        if name in hosts:
            assert resolved_env(objects, container).get(hosts[name]) == "0.0.0.0", workload["metadata"]["name"]  # noqa: S104


def _port(container: Obj, probe: Obj) -> int:
    """A probe's port, a name resolved to the container's port number."""
    handler = probe.get("httpGet") or probe.get("grpc") or probe.get("tcpSocket")
    assert handler is not None, probe
    port = handler["port"]
    if isinstance(port, int):
        return port
    by_name = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert port in by_name, f"{container['name']}: no port named {port}"
    return int(by_name[port])


def test_ports_and_probes_match_the_settings(objects: tuple[Obj, ...]) -> None:
    for workload, container in containers(objects):
        if workload["kind"] == "Job":
            continue
        name = image_name(container["image"])
        env = resolved_env(objects, container)
        ready, alive = container["readinessProbe"], container["livenessProbe"]
        if name in HTTP_APIS:
            port = setting_default(SETTINGS[name], "http_port")
            assert env.get("HTTP_PORT") in (None, str(port))
            assert ready["httpGet"]["path"] == "/ready", name
            assert alive["httpGet"]["path"] == "/health", name
        elif name == "persistence":
            port = setting_default(PersistenceSettings, "grpc_port")
            metrics = setting_default(PersistenceSettings, "metrics_port")
            assert env.get("GRPC_PORT") in (None, str(port))
            assert env.get("METRICS_PORT") in (None, str(metrics))
            assert "grpc" in ready, "the persistence service is probed with the standard gRPC health service"
            assert "grpc" in alive
            # Prometheus's pod discovery scrapes the ports named metrics.
            assert {"name": "metrics", "containerPort": metrics} in container["ports"]
        elif name == "ingest-consumer":
            port = setting_default(IngestSettings, "metrics_port")
            assert env.get("METRICS_PORT") in (None, str(port))
        else:
            port = 8080  # the front end's nginx (deploy/docker/frontend)
        expected = [port, setting_default(PersistenceSettings, "metrics_port")] if name == "persistence" else [port]
        assert [p["containerPort"] for p in container["ports"]] == expected, workload["metadata"]["name"]
        assert _port(container, ready) == port
        assert _port(container, alive) == port


def test_services_reach_their_pods(objects: tuple[Obj, ...]) -> None:
    for service in of_kind(objects, "Service"):
        selected = [
            w for w in workloads(objects) if selects({"matchLabels": service["spec"]["selector"]}, pod_labels(w))
        ]
        assert selected, f"Service {service['metadata']['name']} selects no pods"
        port_names = {p.get("name") for w in selected for c in pod_spec(w)["containers"] for p in c.get("ports", [])}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in port_names, f"Service {service['metadata']['name']}: {port['targetPort']}"


def test_read_apis_use_a_replica_and_the_writer_the_primary(objects: tuple[Obj, ...]) -> None:
    for workload, container in containers(objects):
        url = resolved_env(objects, container).get("DATABASE_URL")
        name = image_name(container["image"])
        if name in HTTP_APIS:
            assert url is not None
            assert re.search(r"//udaconnect-db-ro?:", url), f"{name} reads from {url}"
        elif name == "persistence":
            assert url is not None
            assert "//udaconnect-db-rw:" in url, f"{workload['metadata']['name']} writes to {url}"
        else:
            assert url is None, name
        if url is not None:
            assert "@" not in url, "credentials come from PGUSER/PGPASSWORD, never the URL"


def test_the_migration_runs_as_a_job_on_the_primary(objects: tuple[Obj, ...]) -> None:
    job = named(objects, "Job", "persistence-migrate")
    (container,) = pod_spec(job)["containers"]
    assert image_name(container["image"]) == "persistence"
    assert container["args"] == ["persistence-migrate"]
    assert "//udaconnect-db-rw:" in str(resolved_env(objects, container)["DATABASE_URL"])


def test_the_consumer_has_a_stable_instance_id(objects: tuple[Obj, ...]) -> None:
    consumer = named(objects, "StatefulSet", "ingest-consumer")
    env = {var["name"]: var for var in pod_spec(consumer)["containers"][0]["env"]}
    assert env["CONSUMER_INSTANCE_ID"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}


def test_topics_are_the_services_defaults(objects: tuple[Obj, ...]) -> None:
    defaults = {
        name.upper(): setting_default(CommonSettings, name)
        for name in CommonSettings.model_fields
        if name.startswith("kafka_topic_")
    }
    topics = {t["spec"].get("topicName", t["metadata"]["name"]) for t in of_kind(objects, "KafkaTopic")}
    assert topics == set(defaults.values())
    assert {k: v for k, v in config_data(objects, "kafka-client").items() if k in defaults} == defaults


def _partitions(objects: tuple[Obj, ...], topic: str) -> int:
    (found,) = [t for t in of_kind(objects, "KafkaTopic") if t["spec"].get("topicName", t["metadata"]["name"]) == topic]
    partitions: int = found["spec"]["partitions"]
    return partitions


def test_autoscalers_for_the_apis_and_the_consumer_within_the_partitions(objects: tuple[Obj, ...]) -> None:
    scaled = {
        (h["spec"]["scaleTargetRef"]["kind"], h["spec"]["scaleTargetRef"]["name"]): h
        for h in of_kind(objects, "HorizontalPodAutoscaler")
    }
    for api in HTTP_APIS:
        assert ("Deployment", api) in scaled, f"no HPA for {api}"
    consumer_hpa = scaled[("StatefulSet", "ingest-consumer")]
    locations = _partitions(objects, setting_default(CommonSettings, "kafka_topic_locations"))
    assert consumer_hpa["spec"]["maxReplicas"] <= locations, "a consumer beyond the partition count sits idle"
    assert named(objects, "StatefulSet", "ingest-consumer")["spec"]["replicas"] <= locations
    for hpa in scaled.values():
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]


def test_every_long_running_workload_has_a_disruption_budget(objects: tuple[Obj, ...]) -> None:
    budgets = of_kind(objects, "PodDisruptionBudget")
    for workload in workloads(objects):
        if workload["kind"] == "Job":
            continue
        assert any(selects(b["spec"]["selector"], pod_labels(workload)) for b in budgets), workload["metadata"]["name"]


def _uses(container: Obj, objects: tuple[Obj, ...], variable: str) -> bool:
    return variable in resolved_env(objects, container)


def test_network_policies_admit_only_the_right_clients(objects: tuple[Obj, ...]) -> None:
    policies = {p["metadata"]["name"]: p for p in of_kind(objects, "NetworkPolicy")}
    deny = policies["default-deny-ingress"]["spec"]
    assert deny["podSelector"] == {}
    assert "ingress" not in deny
    assert deny["policyTypes"] == ["Ingress"]

    def clients(policy: str) -> set[str]:
        (rule,) = [r for r in policies[policy]["spec"]["ingress"] if any("podSelector" in p for p in r["from"])]
        names: set[str] = set()
        for peer in rule["from"]:
            names |= workload_names_selected(objects, peer["podSelector"])
        return names

    # Only the consumer reaches the persistence service; Prometheus its metrics port only.
    assert clients("persistence") == {"ingest-consumer"}
    persistence_metrics = policies["persistence-metrics"]["spec"]
    assert persistence_metrics["podSelector"] == policies["persistence"]["spec"]["podSelector"]
    (scrape,) = persistence_metrics["ingress"]
    assert all("podSelector" not in peer for peer in scrape["from"]), "from the monitoring namespace only"
    assert scrape["ports"] == [{"protocol": "TCP", "port": setting_default(PersistenceSettings, "metrics_port")}]
    # Only what has a DATABASE_URL reaches PostgreSQL.
    db_users = {w["metadata"]["name"] for w, c in containers(objects) if _uses(c, objects, "DATABASE_URL")}
    assert clients("postgres") == db_users
    assert policies["postgres"]["spec"]["podSelector"] == {"matchLabels": {"cnpg.io/cluster": "udaconnect-db"}}
    # Kafka: Strimzi writes the brokers' policy from the listener's peers; only Kafka clients are in them.
    kafka_users = {
        w["metadata"]["name"] for w, c in containers(objects) if _uses(c, objects, "KAFKA_BOOTSTRAP_SERVERS")
    }
    (kafka,) = of_kind(objects, "Kafka")
    for listener in kafka["spec"]["kafka"]["listeners"]:
        peers: set[str] = set()
        for peer in listener["networkPolicyPeers"]:
            peers |= workload_names_selected(objects, peer["podSelector"])
        assert peers == kafka_users, listener["name"]


def test_kafka_and_postgres_resources_have_their_required_fields(objects: tuple[Obj, ...]) -> None:
    """What the CRD schemas cannot say: the fields that must agree with each other and with our settings."""
    (kafka,) = of_kind(objects, "Kafka")
    # Strimzi 1.x serves v1 only; KRaft and node pools are no longer switched on by annotations.
    assert kafka["apiVersion"] == "kafka.strimzi.io/v1"
    cluster_name = kafka["metadata"]["name"]
    assert kafka["spec"]["kafka"]["version"] == kafka_version(ROOT / "infra" / "kafka" / "pom.xml"), (
        "the version the tests run"
    )
    assert kafka["spec"]["kafka"]["listeners"]
    for listener in kafka["spec"]["kafka"]["listeners"]:
        assert {"name", "port", "type", "tls"} <= set(listener)
    assert "topicOperator" in kafka["spec"]["entityOperator"]
    bootstrap = f"{cluster_name}-kafka-bootstrap:{kafka['spec']['kafka']['listeners'][0]['port']}"
    assert config_data(objects, "kafka-client")["KAFKA_BOOTSTRAP_SERVERS"] == bootstrap
    pools = of_kind(objects, "KafkaNodePool")
    assert {role for pool in pools for role in pool["spec"]["roles"]} == {"controller", "broker"}, "KRaft"
    for pool in pools:
        assert pool["metadata"]["labels"]["strimzi.io/cluster"] == cluster_name
        assert pool["spec"]["replicas"] >= 1
        assert pool["spec"]["storage"]["type"] in ("persistent-claim", "jbod", "ephemeral")
    for topic in of_kind(objects, "KafkaTopic"):
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == cluster_name
        assert topic["spec"]["partitions"] >= 1
        assert topic["spec"]["replicas"] >= 1

    (database,) = of_kind(objects, "Cluster")
    assert database["apiVersion"] == "postgresql.cnpg.io/v1"
    assert database["metadata"]["name"] == "udaconnect-db"
    assert "postgis" in database["spec"]["imageName"]
    assert database["spec"]["storage"]["size"]
    initdb = database["spec"]["bootstrap"]["initdb"]
    assert (initdb["database"], initdb["owner"]) == ("udaconnect", "udaconnect")
    assert "CREATE EXTENSION IF NOT EXISTS postgis" in initdb["postInitApplicationSQL"]
    (reader,) = database["spec"]["managed"]["roles"]
    assert reader["name"] == "udaconnect_reader"
    reader_default = setting_default(PersonApiSettings, "database_url")
    assert "//udaconnect_reader:" in reader_default, "the role the APIs' default URL names"


def test_prod_replicates_kafka_and_postgres() -> None:
    objects = render("prod")
    (kafka,) = of_kind(objects, "Kafka")
    config = kafka["spec"]["kafka"]["config"]
    assert config["min.insync.replicas"] == 2
    assert config["default.replication.factor"] == 3
    assert config["offsets.topic.replication.factor"] == 3
    for role in ("broker", "controller"):
        assert sum(p["spec"]["replicas"] for p in of_kind(objects, "KafkaNodePool") if role in p["spec"]["roles"]) == 3
    for topic in of_kind(objects, "KafkaTopic"):
        assert topic["spec"]["replicas"] == 3, topic["metadata"]["name"]
        assert topic["spec"]["config"]["min.insync.replicas"] == 2, topic["metadata"]["name"]
    (database,) = of_kind(objects, "Cluster")
    assert database["spec"]["instances"] == 3
    for workload in workloads(objects):
        if workload["kind"] != "Job":
            assert workload["spec"]["replicas"] >= 2, f"{workload['metadata']['name']}: one replica in production"
    persistence = config_data(objects, "persistence")
    assert int(persistence["LOCATION_RETENTION_DAYS"]) > 0, "production forgets old pings"


def test_no_secret_is_committed_and_the_template_names_every_secret(objects: tuple[Obj, ...]) -> None:
    assert not of_kind(objects, "Secret"), "Secrets are created by hand from secret.example.yaml"
    template = K8S / "base" / "secret.example.yaml"
    for kustomization in K8S.rglob("kustomization.yaml"):
        resources = yaml.safe_load(kustomization.read_text()).get("resources", [])
        assert not [r for r in resources if r.endswith(template.name)], f"{kustomization} renders the template"
    templated = {doc["metadata"]["name"] for doc in yaml.safe_load_all(template.read_text()) if doc}
    referenced: set[str] = set()
    for workload in workloads(objects):
        for container in pod_spec(workload)["containers"]:
            for var in container.get("env", []):
                if "secretKeyRef" in var.get("valueFrom", {}):
                    referenced.add(var["valueFrom"]["secretKeyRef"]["name"])
        for volume in pod_spec(workload).get("volumes", []):
            if "secret" in volume:
                referenced.add(volume["secret"]["secretName"])
    for cluster in of_kind(objects, "Cluster"):
        for role in cluster["spec"]["managed"]["roles"]:
            referenced.add(role["passwordSecret"]["name"])
    assert referenced - OPERATOR_SECRETS <= templated


def test_everything_is_in_the_namespace(objects: tuple[Obj, ...]) -> None:
    for obj in objects:
        if obj["kind"] != "Namespace":
            assert obj["metadata"].get("namespace") == "udaconnect", f"{obj['kind']} {obj['metadata']['name']}"


def test_core_objects_match_the_kubernetes_schemas(objects: tuple[Obj, ...]) -> None:
    """Strimzi and CloudNativePG objects are left to their CRD schemas (below)."""
    validate = pytest.importorskip("kubernetes_validate.utils")
    version = str(validate.latest_version())
    for obj in objects:
        if obj["apiVersion"].split("/")[0] in CRD_GROUPS:
            continue
        validate.validate(obj, version, strict=True)


def _strict(node: Any) -> Any:
    """A CRD schema as the API server applies it with strict field validation (``kubectl apply
    --validate=strict``): a field the schema does not name is an error instead of being dropped silently."""
    if isinstance(node, list):
        return [_strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    strict = {
        key: {name: _strict(sub) for name, sub in value.items()} if key == "properties" else _strict(value)
        for key, value in node.items()
    }
    closed = "properties" in node and "additionalProperties" not in node
    if closed and not node.get("x-kubernetes-preserve-unknown-fields"):
        strict["additionalProperties"] = False
    return strict


@functools.cache
def crd_validator(api_version: str, kind: str) -> Draft4Validator:
    """The vendored schema of a custom resource. OpenAPI 3.0's schema objects are JSON Schema draft 4's."""
    group, version = api_version.split("/")
    schema = json.loads((CRD_SCHEMAS / f"{group}_{version}_{kind.lower()}.json").read_text())
    return Draft4Validator(_strict(schema))


def crd_errors(obj: Obj) -> list[str]:
    validator = crd_validator(obj["apiVersion"], obj["kind"])
    return sorted(f"{error.json_path}: {error.message}" for error in validator.iter_errors(obj))


def test_strimzi_and_cloudnativepg_objects_match_their_crd_schemas(objects: tuple[Obj, ...]) -> None:
    checked: set[str] = set()
    for obj in objects:
        if obj["apiVersion"].split("/")[0] in CRD_GROUPS:
            errors = crd_errors(obj)
            assert not errors, f"{obj['kind']} {obj['metadata']['name']}:\n" + "\n".join(errors)
            checked.add(obj["kind"])
    assert checked == {"Kafka", "KafkaNodePool", "KafkaTopic", "Cluster"}


def test_the_crd_schemas_refuse_a_misspelled_field_and_a_wrong_type() -> None:
    objects = render("prod")
    (kafka,) = of_kind(objects, "Kafka")
    misspelled = copy.deepcopy(kafka)
    misspelled["spec"]["kafka"]["listners"] = misspelled["spec"]["kafka"].pop("listeners")
    errors = "\n".join(crd_errors(misspelled))
    assert "'listners' was unexpected" in errors
    assert "'listeners' is a required property" in errors

    topic = copy.deepcopy(of_kind(objects, "KafkaTopic")[0])
    topic["spec"]["partitions"] = "six"
    assert any("$.spec.partitions: 'six' is not of type 'integer'" in e for e in crd_errors(topic))

    database = copy.deepcopy(of_kind(objects, "Cluster")[0])
    database["spec"]["instances"] = 0
    assert any(e.startswith("$.spec.instances:") for e in crd_errors(database))
    # Free-form maps stay free-form: PostgreSQL's parameters are any names.
    database = copy.deepcopy(of_kind(objects, "Cluster")[0])
    database["spec"].setdefault("postgresql", {}).setdefault("parameters", {})["any_setting_name"] = "on"
    assert crd_errors(database) == []
