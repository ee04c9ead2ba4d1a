"""The Dockerfiles (``deploy/docker``) and ``deploy/compose.yaml``, checked offline (no Docker engine here).

The Dockerfiles are linted: several stages, every base image pinned, a non-root numeric user, a
HEALTHCHECK and an EXPOSEd port in the final image, no build tools or uv there; a Python image installs
exactly its service's package and runs one of its console scripts. compose.yaml is checked like the
Kubernetes manifests: env var names against the settings classes, pinned images, healthchecks, and every
database user waiting for the one-shot migration.
"""

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from ingest_consumer.settings import IngestSettings
from persistence_service.settings import PersistenceSettings
from tests.unit.test_deploy_manifests import (
    DEPLOY,
    HTTP_APIS,
    ROOT,
    SETTINGS,
    frontend_env_names,
    image_name,
    is_pinned,
    setting_default,
    setting_names,
)
from udaconnect_common.settings import CommonSettings

yaml = pytest.importorskip("yaml")

DOCKER = DEPLOY / "docker"
IMAGES = sorted(path.name for path in DOCKER.iterdir() if (path / "Dockerfile").is_file())
PYTHON_IMAGES = [name for name in IMAGES if name != "frontend"]
# Compilers and build tools: never in a final image.
BUILD_TOOLS = re.compile(r"\b(gcc|g\+\+|clang|make|build-essential|build-base|musl-dev|libc6-dev|python3-dev)\b")

Instruction = tuple[str, str]


def instructions(dockerfile: Path) -> list[Instruction]:
    """(KEYWORD, arguments) per instruction, continuation lines joined, comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in dockerfile.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1] if " " in text else "") for text in logical]


def stages(dockerfile: Path) -> list[list[Instruction]]:
    """The instructions of each stage, FROM first."""
    result: list[list[Instruction]] = []
    for instruction in instructions(dockerfile):
        if instruction[0] == "FROM":
            result.append([])
        assert result, f"{dockerfile}: an instruction before the first FROM"
        result[-1].append(instruction)
    return result


def final_stage(dockerfile: Path) -> list[Instruction]:
    return stages(dockerfile)[-1]


def arguments(stage: list[Instruction], keyword: str) -> list[str]:
    return [args for key, args in stage if key == keyword]


def exposed_port(name: str) -> int:
    if name in HTTP_APIS:
        port: int = setting_default(SETTINGS[name], "http_port")
    elif name == "persistence":
        port = setting_default(PersistenceSettings, "grpc_port")
    elif name == "ingest-consumer":
        port = setting_default(IngestSettings, "metrics_port")
    else:
        port = 8080  # the front end's nginx (unprivileged image)
    return port


def service_project(name: str) -> dict[str, Any]:
    project: dict[str, Any] = tomllib.loads((ROOT / "services" / name / "pyproject.toml").read_text())["project"]
    return project


def test_a_dockerfile_per_service_and_the_front_end() -> None:
    assert set(IMAGES) == {*HTTP_APIS, "ingest-consumer", "persistence", "frontend"}
    assert {path.name for path in (ROOT / "services").iterdir() if (path / "pyproject.toml").is_file()} == set(
        PYTHON_IMAGES
    )


@pytest.mark.parametrize("name", IMAGES)
def test_dockerfile_is_multi_stage_pinned_and_non_root(name: str) -> None:
    dockerfile = DOCKER / name / "Dockerfile"
    all_stages = stages(dockerfile)
    assert len(all_stages) >= 2, "build in one stage, run in another"
    aliases: set[str] = set()
    for stage in all_stages:
        words = stage[0][1].split()
        image = words[0]
        assert image in aliases or is_pinned(image), f"{name}: FROM {image} is not pinned"
        if len(words) == 3 and words[1].upper() == "AS":
            aliases.add(words[2])
    final = final_stage(dockerfile)
    (user,) = arguments(final, "USER")
    uid = user.split(":")[0]
    assert uid.isdigit(), f"{name}: USER {user}: numeric, so Kubernetes can check runAsNonRoot"
    assert int(uid) != 0
    (healthcheck,) = arguments(final, "HEALTHCHECK")
    assert "CMD" in healthcheck
    assert str(exposed_port(name)) in healthcheck, f"{name}: the healthcheck asks the exposed port"
    # The persistence service also serves its metrics over HTTP beside the gRPC port.
    metrics = [str(setting_default(PersistenceSettings, "metrics_port"))] if name == "persistence" else []
    assert arguments(final, "EXPOSE") == [" ".join([str(exposed_port(name)), *metrics])]
    for key, args in final:
        if key == "RUN":
            assert not BUILD_TOOLS.search(args), f"{name}: build tools in the final image: {args}"
            assert not re.search(r"\b(apt-get|apk) (install|add)\b", args), f"{name}: packages in the final image"
        if key == "COPY":
            assert "--from=uv" not in args, f"{name}: uv in the final image"


@pytest.mark.parametrize("name", IMAGES)
def test_dockerignore_keeps_local_state_out(name: str) -> None:
    ignore = (DOCKER / name / "Dockerfile.dockerignore").read_text().splitlines()
    assert {".git", "**/.venv", "**/node_modules", ".run"} <= set(ignore)
    assert ignore == (DOCKER / "person-api" / "Dockerfile.dockerignore").read_text().splitlines(), "all the same"


@pytest.mark.parametrize("name", PYTHON_IMAGES)
def test_python_image_installs_its_package_and_runs_its_console_script(name: str) -> None:
    dockerfile = DOCKER / name / "Dockerfile"
    project = service_project(name)
    builder = stages(dockerfile)[:-1]
    runs = [args for stage in builder for args in arguments(stage, "RUN")]
    assert any(
        re.search(rf"uv sync --frozen --no-dev --no-editable --package {re.escape(project['name'])}$", r) for r in runs
    ), runs
    final = final_stage(dockerfile)
    (cmd,) = arguments(final, "CMD")
    assert cmd.startswith("[")
    assert cmd.strip("[]").strip('"') in project["scripts"], cmd
    env = " ".join(arguments(final, "ENV"))
    host = {"ingest-consumer": "METRICS_HOST", "persistence": "GRPC_HOST"}.get(name, "HTTP_HOST")
    assert f"{host}=0.0.0.0" in env, f"{name}: listens on every interface in a container"
    for variable in re.findall(r"\b([A-Z][A-Z0-9_]+)=", env):
        assert variable in setting_names(SETTINGS[name]) or variable.startswith(("PYTHON", "PATH")), variable


# -- compose.yaml ---------------------------------------------------------------------------------------


def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return document


def services() -> dict[str, Any]:
    found: dict[str, Any] = compose()["services"]
    return found


def ours(service: dict[str, Any]) -> str | None:
    """The deploy/docker image a compose service runs, or None for third-party images."""
    image: str = service["image"]
    return image_name(image) if image.startswith("udaconnect/") else None


ONE_SHOTS = ("kafka-topics", "migrate")


def test_compose_runs_everything() -> None:
    assert set(services()) == {
        "kafka",
        "kafka-topics",
        "postgres",
        "migrate",
        "persistence",
        "ingest-consumer",
        *HTTP_APIS,
        "frontend",
    }


def test_compose_images_are_pinned_and_ours_built_from_their_dockerfiles() -> None:
    for name, service in services().items():
        assert is_pinned(service["image"]), f"{name}: {service['image']}"
        image = ours(service)
        if image is not None:
            assert service["build"]["dockerfile"] == f"deploy/docker/{image}/Dockerfile", name
            assert (DEPLOY / service["build"]["context"] / service["build"]["dockerfile"]).is_file(), name


def test_compose_env_names_are_the_settings_of_what_runs() -> None:
    for name, service in services().items():
        image = ours(service)
        if image is None:
            continue
        known = frontend_env_names() if image == "frontend" else setting_names(SETTINGS[image])
        unknown = set(service.get("environment", {})) - known
        assert not unknown, f"{name}: not settings of {image}: {sorted(unknown)}"


def test_compose_services_listen_on_every_interface_and_publish_their_port() -> None:
    hosts = {"ingest-consumer": "METRICS_HOST", "persistence": "GRPC_HOST"} | dict.fromkeys(HTTP_APIS, "HTTP_HOST")
    for name, service in services().items():
        image = ours(service)
        if image in hosts and name not in ONE_SHOTS:
            assert service["environment"][hosts[image]] == "0.0.0.0", name  # noqa: S104
        if image in HTTP_APIS or image == "frontend":
            (published,) = service["ports"]
            assert published.rsplit(":", 1)[1] == str(exposed_port(image)), name
        if image in HTTP_APIS:
            assert str(service["environment"]["HTTP_PORT"]) == str(exposed_port(image)), name


def test_compose_apis_verify_tokens_with_a_mounted_public_key() -> None:
    for name in HTTP_APIS:
        service = services()[name]
        key_file = service["environment"]["AUTH_PUBLIC_KEY_FILE"]
        assert any(volume.endswith(f":{key_file}:ro") for volume in service["volumes"]), name
        assert "udaconnect_reader:" in service["environment"]["DATABASE_URL"], f"{name}: the read-only role"


def test_compose_healthchecks_and_start_order() -> None:
    all_services = services()
    for name, service in all_services.items():
        if name in ONE_SHOTS:
            assert service["restart"] == "no", name
            continue
        assert "test" in service["healthcheck"], f"{name}: no healthcheck"
        env = service.get("environment", {})
        depends = service.get("depends_on", {})
        if "DATABASE_URL" in env:
            assert depends["migrate"] == {"condition": "service_completed_successfully"}, name
        if "KAFKA_BOOTSTRAP_SERVERS" in env:
            assert depends["kafka-topics"] == {"condition": "service_completed_successfully"}, name
    assert all_services["migrate"]["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert all_services["migrate"]["command"] == ["persistence-migrate"]
    assert all_services["ingest-consumer"]["depends_on"]["persistence"] == {"condition": "service_healthy"}


def test_compose_creates_the_services_topics() -> None:
    script = "\n".join(services()["kafka-topics"]["command"])
    for field, topic in CommonSettings.model_fields.items():
        if field.startswith("kafka_topic_"):
            assert f"{topic.default}:" in script, topic.default
    kafka_client = {k: v for k, v in compose()["x-kafka-client"].items() if k.startswith("KAFKA_TOPIC_")}
    assert kafka_client == {
        name.upper(): setting_default(CommonSettings, name)
        for name in CommonSettings.model_fields
        if name.startswith("kafka_topic_")
    }


def test_compose_commits_no_password() -> None:
    text = (DEPLOY / "compose.yaml").read_text()
    for url in re.findall(r"postgresql\+psycopg://\S+", text):
        password = url.split("//", 1)[1].split("@", 1)[0].split(":", 1)[1]
        assert password.startswith("${"), f"a password in compose.yaml: {url}"
        assert ":?" in password, f"{url}: the password must be required from the environment"
    assert re.search(r"POSTGRES_PASSWORD: \$\{POSTGRES_PASSWORD:\?", text)
    assert ".env" in (DEPLOY / ".gitignore").read_text().split()
