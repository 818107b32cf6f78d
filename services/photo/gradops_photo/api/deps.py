"""The photo service's dependencies: scoped principals, its typed settings, the registry client,
the QC pool and the import runner (the last two live as long as the app: see workers.py), and the
path parameters its routes share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from gradops_photo.qc.pool import QcPool
from gradops_photo.service.import_runner import ImportRunner
from gradops_photo.service.registry import registry_client
from gradops_photo.settings import PhotoSettings
from gradops_shared.edge import settings_of
from gradops_shared.peers import RegistryClient
from gradops_shared.principal import Principal, requires
from gradops_shared.runtime import runtime_from

Checker = Annotated[Principal, requires("photos:check")]
Reader = Annotated[Principal, requires("photos:read")]
Writer = Annotated[Principal, requires("photos:write")]
Reviewer = Annotated[Principal, requires("photos:review")]
Capturer = Annotated[Principal, requires("photos:capture")]


def _settings(request: Request) -> PhotoSettings:
    settings: PhotoSettings = settings_of(request)
    return settings


def _registry(request: Request) -> RegistryClient:
    return registry_client(runtime_from(request), _settings(request))


def _qc_pool(request: Request) -> QcPool:
    pool: QcPool = request.app.state.qc_pool
    return pool


def _import_runner(request: Request) -> ImportRunner:
    runner: ImportRunner = request.app.state.import_runner
    return runner


SettingsDep = Annotated[PhotoSettings, Depends(_settings)]
RegistryDep = Annotated[RegistryClient, Depends(_registry)]
QcPoolDep = Annotated[QcPool, Depends(_qc_pool)]
ImportRunnerDep = Annotated[ImportRunner, Depends(_import_runner)]

_ID_PATTERN = r"^[0-9a-fA-F-]+$"
StudentNo = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z]+$", description="学号")]
SubmissionId = Annotated[str, Path(min_length=1, max_length=36, pattern=_ID_PATTERN)]
CaptureSessionId = Annotated[str, Path(min_length=1, max_length=36, pattern=_ID_PATTERN)]
ImportId = Annotated[str, Path(min_length=1, max_length=36, pattern=_ID_PATTERN)]
