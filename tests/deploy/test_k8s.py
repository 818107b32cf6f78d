"""deploy/k8s/ checked without a cluster: every object against the Kubernetes OpenAPI schemas that
the pinned `kubernetes-validate` ships (strict: unknown fields are errors), and the wiring between
the objects (selectors, ports, probes, autoscalers, budgets) and the real stack's processes."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import kubernetes_validate
import pytest

from gradops_suite.catalogue import DEFINITIONS
from gradops_suite.stack import StackConfig, process_specs
from tests.deploy.deployfiles import (
    K8S_DIR,
    env_names_in_example,
    load_all_yaml,
    load_yaml,
    run_cli,
    secret_settings,
)

# The oldest Kubernetes release still maintained when this was written, and the newest the package knows.
KUBERNETES_VERSIONS = ("1.31.0", kubernetes_validate.latest_version())
Obj = dict[str, Any]


@cache
def _parsed() -> tuple[Obj, ...]:
    objects: list[Obj] = []
    for path in sorted(K8S_DIR.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            objects += load_all_yaml(path)
    return tuple(objects)


def manifests() -> list[Obj]:
    """A deep copy, so a test that edits an object cannot change what another one reads."""
    copied: list[Obj] = json.loads(json.dumps(_parsed()))
    return copied


def of_kind(kind: str) -> dict[str, Obj]:
    return {o["metadata"]["name"]: o for o in manifests() if o["kind"] == kind}


def container_of(workload: Obj) -> Obj:
    containers: list[Obj] = workload["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_manifest_is_valid_for_kubernetes(version: str) -> None:
    errors = []
    for obj in manifests():
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{obj['kind']}/{obj['metadata']['name']}: {exc.message}")
    assert errors == []


def test_the_validation_refuses_a_misspelt_field() -> None:
    deployment = json.loads(json.dumps(of_kind("Deployment")["gateway"]))
    deployment["spec"]["template"]["spec"]["containers"][0]["readynessProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[-1], strict=True)


def test_every_process_of_the_real_stack_is_a_deployment_running_a_real_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deployments = of_kind("Deployment")
    for spec in process_specs(StackConfig()):
        assert spec.name in deployments, f"{spec.name} has no Deployment"
        container = container_of(deployments[spec.name])
        assert container["args"] == [*spec.args, "--port", str(spec.port)]
        assert run_cli(container["args"], monkeypatch)[0] == "serve"
        assert container["ports"][0]["containerPort"] == spec.port
        assert {"name": "PORT", "value": str(spec.port)} in container["env"]
    job = of_kind("Job")["gradops-migrate"]
    assert run_cli(container_of(job)["args"], monkeypatch) == ("migrate",)


def test_probes_and_the_pod_security_rules() -> None:
    workloads = [*of_kind("Deployment").values(), *of_kind("Job").values()]
    for workload in workloads:
        pod = workload["spec"]["template"]["spec"]
        container = container_of(workload)
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
        assert container["resources"]["limits"]["memory"] and container["resources"]["requests"]["cpu"]
        env_from = {ref.get("configMapRef", ref.get("secretRef"))["name"] for ref in container["envFrom"]}
        assert env_from == {"gradops-config", "gradops-secrets"}
        if workload["kind"] == "Deployment":
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
            assert container["livenessProbe"]["httpGet"]["port"] == container["ports"][0]["name"]


def test_services_select_their_pods_on_the_right_port() -> None:
    deployments, services = of_kind("Deployment"), of_kind("Service")
    for name, deployment in deployments.items():
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
        service = services[name]
        assert service["spec"]["selector"].items() <= pod_labels.items()
        assert service["spec"]["ports"][0]["port"] == container_of(deployment)["ports"][0]["containerPort"]


def test_the_gateway_and_photo_reach_the_services_by_their_service_names() -> None:
    config = of_kind("ConfigMap")["gradops-config"]["data"]
    services = of_kind("Service")
    upstreams: dict[str, str] = json.loads(config["GRADOPS_GATEWAY_SERVICES"])
    assert set(upstreams) == set(DEFINITIONS)
    for url in [*upstreams.values(), config["GRADOPS_PHOTO_REGISTRY_URL"]]:
        host, port = url.removeprefix("http://").split(":")
        assert services[host]["spec"]["ports"][0]["port"] == int(port), url


def test_autoscalers_for_the_stateless_apis_and_gateway_only_and_a_budget_for_everything() -> None:
    deployments, autoscalers, budgets = (
        of_kind("Deployment"),
        of_kind("HorizontalPodAutoscaler"),
        of_kind("PodDisruptionBudget"),
    )
    stateless = {f"{name}-api" for name in DEFINITIONS} | {"gateway"}
    assert set(autoscalers) == stateless
    for name, hpa in autoscalers.items():
        assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        assert hpa["spec"]["minReplicas"] >= 2 and hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]
        assert deployments[name]["spec"]["replicas"] == hpa["spec"]["minReplicas"]
    assert set(budgets) == set(deployments)
    for name, budget in budgets.items():
        assert budget["spec"]["selector"] == deployments[name]["spec"]["selector"]
        # A budget must never block a node drain for good: one pod may always go.
        if "minAvailable" in budget["spec"]:
            assert budget["spec"]["minAvailable"] < deployments[name]["spec"]["replicas"]


def test_config_and_secret_keys_are_documented_settings_and_the_secret_holds_the_secrets() -> None:
    documented = env_names_in_example()
    config = of_kind("ConfigMap")["gradops-config"]["data"]
    secret = of_kind("Secret")["gradops-secrets"]["stringData"]
    assert set(config) | set(secret) <= documented
    assert {"GRADOPS_DATABASE_URL", "GRADOPS_PRINCIPAL_SECRET", "GRADOPS_BOOTSTRAP_API_KEY"} <= set(secret)
    assert not {"GRADOPS_DATABASE_URL", "GRADOPS_PRINCIPAL_SECRET", "GRADOPS_BOOTSTRAP_API_KEY"} & set(config)


def test_every_secret_setting_is_in_the_secret_and_none_in_the_config_map() -> None:
    """Derived from the settings classes (every field typed SecretStr): a new secret lands in
    secret.yaml or this fails; a secret in the ConfigMap would be readable by anyone who can read it."""
    config = of_kind("ConfigMap")["gradops-config"]["data"]
    secret = of_kind("Secret")["gradops-secrets"]["stringData"]
    secrets = secret_settings()
    assert {"RegistrySettings.pii_key", "PhotoSettings.collection_code_key"} <= set(secrets)
    for setting, names in secrets.items():
        assert set(names) & set(secret), f"add {names[0]} to deploy/k8s/secret.yaml ({setting})"
        assert not set(names) & set(config), f"{names[0]} belongs in the Secret, not the ConfigMap"


def test_kustomization_lists_every_manifest_but_the_migration_job() -> None:
    kustomization: Obj = load_yaml(K8S_DIR / "kustomization.yaml")
    files = {p.name for p in K8S_DIR.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == files - {"migrate-job.yaml"}
