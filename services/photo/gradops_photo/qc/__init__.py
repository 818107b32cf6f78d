"""The photo QC engine: check a photo against a profile, explain every failure, standardise it.

`run_checks` gives the report, `standardise` the fixed photo (or why it cannot be fixed); `pool` runs
both in worker processes so the API's event loop never waits on pixels.
"""

from gradops_photo.qc.decode import ImageRefused
from gradops_photo.qc.engine import AdmissionUnreadable, run_checks
from gradops_photo.qc.profiles import DEFAULT_PROFILE, PROFILES, Profile
from gradops_photo.qc.report import CHECK_CODES, CHECK_MEANINGS, Check, QcReport
from gradops_photo.qc.standardise import Standardised, standardise

__all__ = [
    "CHECK_CODES",
    "CHECK_MEANINGS",
    "DEFAULT_PROFILE",
    "PROFILES",
    "AdmissionUnreadable",
    "Check",
    "ImageRefused",
    "Profile",
    "QcReport",
    "Standardised",
    "run_checks",
    "standardise",
]
