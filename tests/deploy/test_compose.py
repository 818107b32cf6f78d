"""docker-compose.yml, .env.example and the Dockerfile, checked without a Docker engine: the compose
file against the Compose Specification's JSON Schema, every command against the real CLI, every
process of the real stack present, and the image's rules (multi-stage, non-root, healthcheck)."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import pytest

from gradops_gateway.settings import GatewaySettings
from gradops_shared.migrations import REPO_ROOT
from gradops_suite.catalogue import DEFINITIONS
from gradops_suite.stack import StackConfig, process_specs
from tests.deploy.deployfiles import (
    COMPOSE_FILE,
    DOCKERFILE,
    ENV_EXAMPLE,
    SCHEMAS,
    env_names_in_example,
    env_names_set_in_example,
    load_yaml,
    run_cli,
    secret_settings,
)

INFRA = {"postgres", "kafka"}
OBSERVABILITY = {"prometheus", "jaeger"}  # the optional `observability` profile


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = load_yaml(COMPOSE_FILE)
    return document


def gradops_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: svc for name, svc in compose["services"].items() if name not in INFRA | OBSERVABILITY}


def compose_validator() -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMAS / "compose-spec.json").read_text())
    # The vendored schema declares draft 2019-09 (see schemas/README.md).
    jsonschema.Draft201909Validator.check_schema(schema)
    validator: jsonschema.protocols.Validator = jsonschema.Draft201909Validator(
        schema, format_checker=jsonschema.Draft201909Validator.FORMAT_CHECKER
    )
    return validator


def test_compose_file_is_valid_against_the_compose_specification(compose: dict[str, Any]) -> None:
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in compose_validator().iter_errors(compose)
    ]
    assert errors == []


def test_the_schema_catches_what_a_typo_would_break(compose: dict[str, Any]) -> None:
    """The check above can fail: a misspelt key or an unknown start condition is refused."""
    validator = compose_validator()
    typo = json.loads(json.dumps(compose))
    typo["services"]["gateway"]["helthcheck"] = typo["services"]["gateway"].pop("healthcheck")
    assert not validator.is_valid(typo)
    wrong_condition = json.loads(json.dumps(compose))
    wrong_condition["services"]["gateway"]["depends_on"]["registry-api"]["condition"] = "service_ready"
    assert not validator.is_valid(wrong_condition)


def test_every_command_exists_in_the_cli_and_serves_the_port_it_is_probed_on(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, service in gradops_services(compose).items():
        dispatched = run_cli(service["command"], monkeypatch)
        if dispatched[0] == "migrate":
            continue
        port = dispatched[3]
        assert service["environment"]["PORT"] == port, f"{name}: PORT (image healthcheck) != --port"
        assert f"127.0.0.1:{port}/readyz" in " ".join(service["healthcheck"]["test"]), name


def test_every_process_of_the_real_stack_has_a_compose_service(compose: dict[str, Any]) -> None:
    services = gradops_services(compose)
    for spec in process_specs(StackConfig()):
        assert spec.name in services, f"{spec.name} ({' '.join(spec.args)}) has no compose service"
        assert services[spec.name]["command"] == [*spec.args, "--port", str(spec.port)]
    assert services["migrate"]["command"] == ["migrate"]
    assert services["migrate"]["restart"] == "no"


def test_start_order_follows_health(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name, service in gradops_services(compose).items():
        if name == "migrate":
            continue
        depends = service["depends_on"]
        if name == "gateway":
            apis = {f"{s}-api" for s in DEFINITIONS}
            assert {k for k, v in depends.items() if v["condition"] == "service_healthy"} >= apis
        else:
            assert depends["migrate"] == {"condition": "service_completed_successfully"}, name
            assert depends["kafka"] == {"condition": "service_healthy"}, name
        for target, condition in depends.items():
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in services[target], (
                    f"{name} waits for {target}, which has no healthcheck"
                )


def test_infrastructure_uses_official_images_with_volumes_and_kraft(compose: dict[str, Any]) -> None:
    postgres, kafka = compose["services"]["postgres"], compose["services"]["kafka"]
    assert postgres["image"].startswith("postgres:")
    assert kafka["image"].startswith("apache/kafka:")
    assert "broker,controller" in kafka["environment"]["KAFKA_PROCESS_ROLES"]  # KRaft, no ZooKeeper
    for service in (postgres, kafka):
        volume = service["volumes"][0].split(":")[0]
        assert volume in compose["volumes"]
        assert service["healthcheck"]["test"]


def test_every_service_has_resource_limits(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        limits = service.get("deploy", {}).get("resources", {}).get("limits", {})
        assert limits.get("cpus") and limits.get("memory"), f"{name} has no cpu/memory limit"


def test_only_the_gateway_is_published_and_the_optional_tools_only_on_loopback(
    compose: dict[str, Any],
) -> None:
    published = [
        name
        for name, service in compose["services"].items()
        if service.get("ports") and "profiles" not in service
    ]
    assert published == ["gateway"]
    for name in OBSERVABILITY:
        service = compose["services"][name]
        assert service["profiles"] == ["observability"]
        assert all(port.startswith("127.0.0.1:") for port in service["ports"])


def test_prometheus_scrapes_every_process_on_its_port(compose: dict[str, Any]) -> None:
    config = load_yaml(REPO_ROOT / "deploy" / "compose" / "prometheus.yml")
    targets = set(config["scrape_configs"][0]["static_configs"][0]["targets"])
    expected = {
        f"{name}:{service['environment']['PORT']}"
        for name, service in gradops_services(compose).items()
        if name != "migrate"
    }
    assert targets == expected
    mount = compose["services"]["prometheus"]["volumes"][0].split(":")[0]
    assert (REPO_ROOT / mount).resolve() == (REPO_ROOT / "deploy" / "compose" / "prometheus.yml").resolve()


def _settings_env_names() -> dict[str, set[str]]:
    """Each setting -> the environment names that set it (an alias, or prefix + field name)."""
    names: dict[str, set[str]] = {}
    classes: list[Any] = [d.settings_cls for d in DEFINITIONS.values()] + [GatewaySettings]
    for cls in classes:
        prefix = cls.model_config.get("env_prefix", "")
        for field_name, field in cls.model_fields.items():
            alias = field.validation_alias
            choices = {str(c) for c in getattr(alias, "choices", [])} if alias else set()
            own = f"{prefix}{field_name}".upper()
            # A service field also answers to GRADOPS_<FIELD>: documenting that one is enough.
            names[f"{cls.__name__}.{field_name}"] = {c.upper() for c in choices} | {
                own,
                f"GRADOPS_{field_name}".upper(),
            }
    return names


def test_env_example_documents_every_setting() -> None:
    documented = env_names_in_example()
    missing = [setting for setting, env in _settings_env_names().items() if not env & documented]
    assert missing == [], f"add these settings to .env.example: {missing}"
    assert {"GRADOPS_PRINCIPAL_SECRET", "GRADOPS_BOOTSTRAP_API_KEY", "POSTGRES_PASSWORD"} <= documented


def test_every_secret_setting_is_set_in_env_example_and_required_by_the_compose_file(
    compose: dict[str, Any],
) -> None:
    """Derived from the settings classes (every field typed SecretStr), so a new secret cannot be
    forgotten: .env.example sets it (uncommented, to be filled in) and every GradOps process of the
    compose file receives it, required (`${NAME:?…}`: compose stops when .env lacks it)."""
    secrets = secret_settings()
    assert {"RegistrySettings.pii_key", "PhotoSettings.collection_code_key"} <= set(secrets)
    set_in_example = env_names_set_in_example()
    environment = compose["x-gradops-process"]["environment"]
    for setting, names in secrets.items():
        assert set(names) & set_in_example, f"set {names[0]} in .env.example ({setting})"
        named = [name for name in names if name in environment]
        assert named, f"name {names[0]} in docker-compose.yml's x-gradops-process environment ({setting})"
        assert environment[named[0]].startswith(f"${{{named[0]}:?"), f"{named[0]} must be required"
    for name, service in gradops_services(compose).items():
        for env_names in secrets.values():
            assert set(env_names) & set(service["environment"]), f"{name} lacks {env_names[0]}"


def test_every_variable_the_compose_file_interpolates_is_documented() -> None:
    text = COMPOSE_FILE.read_text()
    interpolated = set(re.findall(r"(?<!\$)\$\{([A-Z0-9_]+)", text))
    assert interpolated - env_names_in_example() == set()
    assert ENV_EXAMPLE.exists()


def _dockerfile_stages() -> list[list[str]]:
    """The Dockerfile's instructions (continuation lines joined), split into stages."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    stages: list[list[str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            stages.append([])
        if stages:
            stages[-1].append(line)
    return stages


def test_dockerfile_is_multi_stage_slim_and_runs_without_root_or_compilers() -> None:
    stages = _dockerfile_stages()
    assert len(stages) >= 2, "a builder stage and a runtime stage"
    text = DOCKERFILE.read_text()
    assert re.search(r"ARG PYTHON_IMAGE=python:3\.11-slim", text)
    final = stages[-1]
    assert any(re.match(r"COPY --from=builder /opt/venv", line) for line in final)
    users = [line.split()[1] for line in final if line.upper().startswith("USER ")]
    assert users and users[-1].split(":")[0] not in {"root", "0"}, "the final stage must not run as root"
    final_text = "\n".join(final)
    for tool in ("build-essential", "gcc", "apt-get install"):
        assert tool not in final_text, f"{tool} in the runtime stage"
    assert "build-essential" in "\n".join(stages[0])


def test_dockerfile_healthcheck_probes_healthz_on_port_and_runs_the_cli(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    final = _dockerfile_stages()[-1]
    healthcheck = next(line for line in final if line.upper().startswith("HEALTHCHECK"))
    assert "/healthz" in healthcheck and "PORT" in healthcheck
    probe = json.loads(healthcheck.split(" CMD ", 1)[1])  # exec form: no shell needed in the image
    assert probe[:2] == ["python", "-c"]
    compile(probe[2], "<healthcheck>", "exec")
    entrypoint = json.loads(
        next(line for line in final if line.startswith("ENTRYPOINT"))[len("ENTRYPOINT") :]
    )
    assert entrypoint == ["python", "-m", "gradops_suite"]
    default_cmd = json.loads(next(line for line in final if line.startswith("CMD"))[len("CMD") :])
    assert run_cli(default_cmd, monkeypatch)[:3] == ("serve", "gateway", "gateway")
    assert any(line.startswith("ENV") and "GRADOPS_BIND_HOST=0.0.0.0" in line for line in final)


def test_dockerfile_copies_only_paths_that_exist_and_dockerignore_keeps_local_state_out() -> None:
    for line in _dockerfile_stages()[0]:
        if line.startswith("COPY ") and "--from" not in line:
            for source in line.split()[1:-1]:
                assert (REPO_ROOT / source).exists(), f"COPY {source}: no such path"
    ignored = set((REPO_ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".data", ".stack", ".env"} <= ignored
    assert not {"shared", "services", "gateway", "migrations", "openapi"} & ignored


def test_the_gateway_and_photo_reach_the_services_by_their_compose_names(compose: dict[str, Any]) -> None:
    environment = compose["services"]["gateway"]["environment"]
    upstreams: dict[str, str] = json.loads(environment["GRADOPS_GATEWAY_SERVICES"])
    assert set(upstreams) == set(DEFINITIONS)
    for url in [*upstreams.values(), environment["GRADOPS_PHOTO_REGISTRY_URL"]]:
        host, port = url.removeprefix("http://").split(":")
        assert compose["services"][host]["environment"]["PORT"] == port, url
    assert environment["GRADOPS_KAFKA_BOOTSTRAP"] == "kafka:9092"
    assert "@postgres:5432/" in environment["GRADOPS_DATABASE_URL"]
