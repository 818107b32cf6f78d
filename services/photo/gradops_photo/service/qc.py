"""Running photo QC for a request: the profile asked for, the job on the worker pool, and the
refusals it reports turned into problems."""

from __future__ import annotations

from gradops_photo import qc
from gradops_photo.errors import ADMISSION_UNREADABLE, FORMAT, IMAGE_TOO_LARGE, QC_TIMEOUT, UNKNOWN_PROFILE
from gradops_photo.qc.pool import QcJob, QcOutcome, QcPool, QcWorkerLost
from gradops_photo.settings import PhotoSettings


def profile_of(name: str | None, settings: PhotoSettings) -> qc.Profile:
    """The named QC profile, else the configured default; an unknown name is a 422."""
    chosen = name or settings.qc_profile
    profile = qc.PROFILES.get(chosen)
    if profile is None:
        raise UNKNOWN_PROFILE(
            f"Unknown QC profile {chosen!r}; known: {', '.join(qc.PROFILES)}.",
            message_zh=f"未知的照片规格配置 {chosen!r}，可选：{'、'.join(qc.PROFILES)}",
            extra={"profiles": list(qc.PROFILES)},
        )
    return profile


async def run_qc(pool: QcPool, job: QcJob, settings: PhotoSettings) -> QcOutcome:
    """Runs the job in the pool and turns the refusals it reports into problems."""
    try:
        outcome = await pool.run(job, settings.qc_timeout_seconds)
    except TimeoutError as exc:
        raise QC_TIMEOUT("Photo QC took too long; try again.", message_zh="照片检测超时，请重试") from exc
    except QcWorkerLost as exc:
        raise FORMAT(
            "The image could not be analysed (the decoder failed on it).", message_zh="无法解析该图片"
        ) from exc
    if outcome.refused is not None:
        reason_en, reason_zh = outcome.refused
        raise IMAGE_TOO_LARGE(reason_en, message_zh=reason_zh)
    if outcome.admission_unreadable:
        raise ADMISSION_UNREADABLE(
            "The admission photo is not a readable image.", message_zh="入学照片无法读取"
        )
    return outcome


def check_upload(report: qc.QcReport) -> None:
    """A file that is not a decodable JPEG is refused outright and nothing is stored (unless it was
    standardised into one: then the judged photo is the standardised JPEG)."""
    if not report.decodable_jpeg:
        raise FORMAT(
            "The upload is not a complete JPEG image.",
            message_zh="上传的文件不是完整的 JPEG 图片",
            extra={"qc": report.as_dict()},
        )


def judged_report(outcome: QcOutcome) -> qc.QcReport:
    """The report that decides a submission: the standardised photo's when there is one, else the
    upload's; refused outright when that photo is not a decodable JPEG."""
    assert outcome.report is not None
    fixed = outcome.standardised
    judged = outcome.standardised_report if fixed and fixed.data else outcome.report
    assert judged is not None
    check_upload(judged)
    return judged
