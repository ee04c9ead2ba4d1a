"""The Grafana dashboard (``deploy/grafana``), checked offline: its JSON, its metrics, and its provisioning.

The dashboard is one file, ``deploy/grafana/dashboards/udaconnect.json``: compose mounts it into Grafana
with a file-provisioned Prometheus data source, and kustomize generates the ``grafana_dashboard: "1"``
ConfigMap of the Grafana sidecar convention from it. Every metric name in its expressions must be one the
code defines: the ``Counter``/``Histogram``/``Gauge`` calls (and ``GaugeMetricFamily``, of a collector) in
``services/`` and ``libs/``, and the FastAPI instrumentator's defaults.
"""

import json
import re
from pathlib import Path
from typing import Any

import pytest

from ingest_consumer.settings import IngestSettings
from persistence_service.settings import PersistenceSettings
from tests.unit.test_deploy_containers import compose, exposed_port
from tests.unit.test_deploy_containers import services as udaconnect_services
from tests.unit.test_deploy_manifests import (
    DEPLOY,
    HTTP_APIS,
    OVERLAYS,
    ROOT,
    is_pinned,
    of_kind,
    render,
    setting_default,
)

yaml = pytest.importorskip("yaml")

GRAFANA = DEPLOY / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "udaconnect.json"
DATASOURCE_VARIABLE = "${datasource}"

# prometheus-fastapi-instrumentator's default metrics (Instrumentator().instrument(app), udaconnect_common.http).
INSTRUMENTATOR = {"http_requests_total": "Counter", "http_request_duration_seconds": "Histogram"}
# Being added to the consumer (ingest_consumer.metrics) at the same time as this dashboard.
BEING_ADDED = {
    "ingest_consumer_lag": "Gauge",
    "ingest_batch_size": "Histogram",
    "ingest_persistence_call_seconds": "Histogram",
}
SUFFIXES = {
    "Counter": ("_total",),
    "Gauge": ("",),
    "Histogram": ("_bucket", "_sum", "_count"),
    "Summary": ("_sum", "_count"),
}
# A metric object, or a custom collector's family read when scraped (the database pools: GaugeMetricFamily).
METRIC_CALL = re.compile(
    r"\b(Counter|Gauge|Histogram|Summary)(?:MetricFamily)?\(\s*[\"']([a-zA-Z_:][a-zA-Z0-9_:]*)[\"']"
)
# Every metric of these is on a panel: the consumer, the APIs' producer, the persistence service, the pools.
ON_THE_DASHBOARD = ("ingest_", "kafka_producer_", "grpc_server_", "db_pool_")
# PromQL words that look like identifiers but are not series.
PROMQL_WORDS = frozenset(
    {
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "and",
        "or",
        "unless",
        "bool",
        "offset",
        "inf",
        "nan",
    }
)

Obj = dict[str, Any]


def defined_metrics() -> dict[str, str]:
    """Metric name (as given in the code) -> its type, from the source of services/ and libs/."""
    found = dict(INSTRUMENTATOR) | BEING_ADDED
    for folder in ("services", "libs"):
        for source in (ROOT / folder).rglob("*.py"):
            for kind, name in METRIC_CALL.findall(source.read_text()):
                found[name] = kind
    return found


def exposed_series() -> set[str]:
    """The series names Prometheus sees: prometheus_client adds _total to a counter's name when missing."""
    names: set[str] = set()
    for name, kind in defined_metrics().items():
        base = name.removesuffix("_total") if kind == "Counter" else name
        names |= {base + suffix for suffix in SUFFIXES[kind]}
    return names


def metric_names(expr: str) -> set[str]:
    """The series an expression selects: identifiers not called as functions, outside labels and ranges."""
    bare = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)
    bare = re.sub(r"\{[^}]*\}|\[[^\]]*\]", "", bare)
    bare = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", bare)
    names = set()
    for match in re.finditer(r"(?<![\w$.])([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()", bare):
        if match.group(1).lower() not in PROMQL_WORDS:
            names.add(match.group(1))
    return names


def dashboard() -> Obj:
    document: Obj = json.loads(DASHBOARD.read_text())
    return document


def panels(document: Obj) -> list[Obj]:
    """Every panel, those inside collapsed rows too; rows themselves only group and query nothing."""
    found: list[Obj] = []
    for panel in document["panels"]:
        if panel["type"] == "row":
            found.extend(panel.get("panels", []))
        else:
            found.append(panel)
    return found


def expressions(document: Obj) -> list[str]:
    exprs = [target["expr"] for panel in panels(document) for target in panel["targets"]]
    for variable in document["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]
            exprs.append(query["query"] if isinstance(query, dict) else query)
    return exprs


def grafana_compose_file() -> Path:
    """The compose file deploy/compose.yaml includes for Prometheus and Grafana."""
    includes = [DEPLOY / (entry if isinstance(entry, str) else entry["path"]) for entry in compose()["include"]]
    assert GRAFANA / "compose.yaml" in includes, "deploy/compose.yaml includes deploy/grafana/compose.yaml"
    return GRAFANA / "compose.yaml"


def monitoring_services() -> dict[str, Obj]:
    found: dict[str, Obj] = yaml.safe_load(grafana_compose_file().read_text())["services"]
    return found


def mounts(service: Obj) -> dict[str, Path]:
    """Container path -> the repository file a compose service bind-mounts there (named volumes left out)."""
    found: dict[str, Path] = {}
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith("."):
            found[target] = (GRAFANA / source).resolve()
    return found


def test_the_dashboard_is_a_current_grafana_dashboard_on_a_datasource_variable() -> None:
    document = dashboard()
    assert document["uid"]
    assert document["title"]
    assert document["schemaVersion"] >= 39, "the schema of Grafana 11 or newer"
    variables = {v["name"]: v for v in document["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    rows = [panel for panel in document["panels"] if panel["type"] == "row"]
    ids = [panel["id"] for panel in rows + panels(document)]
    assert len(ids) == len(set(ids)), "panel ids are unique"


def test_every_panel_has_a_title_the_datasource_variable_and_a_target() -> None:
    found = panels(dashboard())
    assert len(found) >= 10
    for panel in found:
        assert panel.get("title"), panel["id"]
        assert panel["datasource"] == {"type": "prometheus", "uid": DATASOURCE_VARIABLE}, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["expr"].strip(), panel["title"]
            assert target.get("datasource", panel["datasource"])["uid"] == DATASOURCE_VARIABLE, panel["title"]
    for variable in dashboard()["templating"]["list"]:
        if variable["type"] == "query":
            assert variable["datasource"]["uid"] == DATASOURCE_VARIABLE, variable["name"]


def test_metric_names_parse_from_expressions() -> None:
    expr = 'histogram_quantile(0.95, sum by (le, handler) (rate(x_bucket{job=~"$api", a="b(c)"}[$__rate_interval])))'
    assert metric_names(expr) == {"x_bucket"}
    assert metric_names("sum(rate(a_sum[5m])) / sum(rate(a_count[5m])) > bool 0") == {"a_sum", "a_count"}
    assert metric_names("label_values(http_requests_total, job)") == {"http_requests_total", "job"}


def test_every_metric_is_one_the_code_defines() -> None:
    known = exposed_series()
    assert {"ingest_stored_total", "ingest_parked_locations", "http_request_duration_seconds_bucket"} <= known
    used: set[str] = set()
    for expr in expressions(dashboard()):
        names = metric_names(expr)
        if expr.startswith("label_values("):
            names.discard("job")
        unknown = names - known
        assert not unknown, f"{expr}: not metrics of UdaConnect: {sorted(unknown)}"
        used |= names
    # And every metric of ours is on it.
    ours = {n for n in defined_metrics() if n.startswith(ON_THE_DASHBOARD)}
    assert {"kafka_producer_failed_total", "grpc_server_handled_total", "db_pool_checked_out"} <= ours
    for name in ours:
        kind = defined_metrics()[name]
        base = name.removesuffix("_total") if kind == "Counter" else name
        assert any(base + suffix in used for suffix in SUFFIXES[kind]), f"{name} is on no panel"


def test_the_api_panels_cover_rate_latency_and_errors() -> None:
    exprs = expressions(dashboard())
    assert any("http_requests_total" in e and "handler" in e for e in exprs)
    for quantile in ("0.5", "0.95"):
        assert any(
            f"histogram_quantile({quantile}," in e and "http_request_duration_seconds_bucket" in e for e in exprs
        )
    for status in ("4..", "5.."):
        assert any(f'status=~"{status}"' in e for e in exprs), status
    assert any("ingest_consumer_lag" in e and "partition" in e for e in exprs)


def test_the_producer_grpc_and_pool_panels_break_down_by_what_tells_them_apart() -> None:
    exprs = expressions(dashboard())
    assert any("kafka_producer_failed_total" in e and "error" in e and "topic" in e for e in exprs)
    assert any("histogram_quantile(0.95," in e and "kafka_producer_ack_seconds_bucket" in e for e in exprs)
    assert any("grpc_server_handled_total" in e and "grpc_code" in e and "grpc_method" in e for e in exprs)
    assert any("histogram_quantile(0.95," in e and "grpc_server_handling_seconds_bucket" in e for e in exprs)
    # In use against the limit, per engine: saturation is what makes a query wait.
    pools = [e for e in exprs if e.startswith(("sum by", "max by")) and "db_pool_" in e]
    assert pools
    assert all("engine" in e for e in pools)
    assert {"db_pool_checked_out", "db_pool_max_connections"} <= {n for e in pools for n in metric_names(e)}


def test_compose_runs_prometheus_and_grafana_pinned_with_healthchecks() -> None:
    for name in ("prometheus", "grafana"):
        service = monitoring_services()[name]
        assert is_pinned(service["image"]), f"{name}: {service['image']}"
        assert "test" in service["healthcheck"], name
    assert set(monitoring_services()).isdisjoint(udaconnect_services())


def test_compose_provisions_the_dashboard_and_the_datasource() -> None:
    grafana = monitoring_services()["grafana"]
    mounted = mounts(grafana)
    for source in mounted.values():
        assert source.is_file(), source
    datasources = [t for t in mounted if t.startswith("/etc/grafana/provisioning/datasources/")]
    (datasource_file,) = datasources
    (datasource,) = yaml.safe_load(mounted[datasource_file].read_text())["datasources"]
    assert datasource["type"] == "prometheus"
    prometheus = monitoring_services()["prometheus"]
    assert datasource["url"] == f"http://prometheus:{prometheus['ports'][0].rsplit(':', 1)[1]}"
    providers = [t for t in mounted if t.startswith("/etc/grafana/provisioning/dashboards/")]
    (provider_file,) = providers
    (provider,) = yaml.safe_load(mounted[provider_file].read_text())["providers"]
    dashboards = {t: s for t, s in mounted.items() if s == DASHBOARD.resolve()}
    assert dashboards, "grafana mounts deploy/grafana/dashboards/udaconnect.json"
    assert all(Path(t).parent == Path(provider["options"]["path"]) for t in dashboards), "where the provider looks"


def test_prometheus_scrapes_every_metrics_endpoint() -> None:
    prometheus = monitoring_services()["prometheus"]
    mounted = mounts(prometheus)
    config_flag = next(a for a in prometheus["command"] if a.startswith("--config.file="))
    config = yaml.safe_load(mounted[config_flag.split("=", 1)[1]].read_text())
    targets = {
        job["job_name"]: (job.get("metrics_path", "/metrics"), target)
        for job in config["scrape_configs"]
        for static in job["static_configs"]
        for target in static["targets"]
    }
    ours = udaconnect_services()
    expected = {api: ("/metrics", f"{api}:{ours[api]['environment']['HTTP_PORT']}") for api in HTTP_APIS}
    expected["ingest-consumer"] = ("/metrics", f"ingest-consumer:{setting_default(IngestSettings, 'metrics_port')}")
    expected["persistence"] = ("/metrics", f"persistence:{setting_default(PersistenceSettings, 'metrics_port')}")
    assert str(ours["persistence"]["environment"]["METRICS_PORT"]) == str(
        setting_default(PersistenceSettings, "metrics_port")
    )
    assert targets == expected
    for api in HTTP_APIS:
        assert str(ours[api]["environment"]["HTTP_PORT"]) == str(exposed_port(api))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kustomize_renders_the_dashboard_configmap_from_the_same_json(overlay: str) -> None:
    labelled = [
        c for c in of_kind(render(overlay), "ConfigMap") if c["metadata"].get("labels", {}).get("grafana_dashboard")
    ]
    (configmap,) = labelled
    assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert configmap["metadata"]["namespace"] == "udaconnect"
    assert configmap["data"] == {"udaconnect.json": DASHBOARD.read_text()}, "generated from the dashboard file"
    assert json.loads(configmap["data"]["udaconnect.json"]) == dashboard()
