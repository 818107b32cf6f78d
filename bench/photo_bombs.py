"""Hostile photo uploads (issue 13): what one pixel bomb costs a QC worker, and how fast a zip with a
huge directory is refused.

    .venv/bin/python bench/photo_bombs.py [--before-tree DIR]

Each figure is measured in a fresh process (a clean peak RSS): one QC of the issue's solid-colour
6000×6000 JPEG (~560 KB, under the 40 MP cap), and the refusal of a zip whose directory holds
700,000 entries. `--before-tree` points at a checkout of the code before the change (e.g. `git
archive <commit> | tar -x -C DIR`) and measures it the same way, for the before/after table. Writes
bench/results/photo_bombs.json. CPU seconds are the fair figure on a shared machine; wall seconds are
printed beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "photo_bombs.json"
SOURCE_DIRS = (
    "shared",
    "gateway",
    "services/registry",
    "services/photo",
    "services/audit",
    "services/certificates",
)


def _child_qc(bomb: Path) -> dict[str, Any]:
    import resource
    import time

    from gradops_photo.qc import PROFILES
    from gradops_photo.qc.face import warm_up
    from gradops_photo.qc.pool import QcJob, run_job

    data = bomb.read_bytes()  # made by the parent: making it here would set the peak itself
    warm_up()  # what every pool worker holds before its first photo
    models = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    wall, cpu = time.perf_counter(), time.process_time()
    outcome = run_job(QcJob(data, PROFILES["ouc-platform"]))
    assert outcome.report is not None
    return {
        "upload_bytes": len(data),
        "cpu_s": round(time.process_time() - cpu, 2),
        "wall_s": round(time.perf_counter() - wall, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "rss_before_job_mb": round(models / 1024 / 1024),
    }


def _child_zip() -> dict[str, Any]:
    import time

    from gradops_photo.domain.archive import ArchiveLimits, TooManyEntries, plan_archive
    from tests.photo.zips import many_entries_zip

    data = many_entries_zip(700_000)
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        plan_archive(data, ArchiveLimits())
        refused = False
    except TooManyEntries:
        refused = True
    return {
        "zip_mb": round(len(data) / 1024 / 1024, 1),
        "entries": 700_000,
        "refused": refused,
        "cpu_s": round(time.process_time() - cpu, 3),
        "wall_s": round(time.perf_counter() - wall, 3),
    }


def _measure(tree: Path, what: str, bomb: Path) -> dict[str, Any]:
    env = dict(os.environ)
    # The tests' helpers (fixtures, zip builder) always come from this checkout; the code under
    # measure from `tree`.
    env["PYTHONPATH"] = os.pathsep.join([*(str(tree / d) for d in SOURCE_DIRS), str(ROOT)])
    out = subprocess.run(
        [sys.executable, __file__, "--child", what, "--bomb", str(bomb)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before-tree", type=Path)
    parser.add_argument("--child", choices=("qc", "zip"))
    parser.add_argument("--bomb", type=Path)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child_qc(args.bomb) if args.child == "qc" else _child_zip()))
        return
    sys.path.insert(0, str(ROOT))
    from tests.photo.fixtures import solid_jpeg

    trees = {"after": ROOT, **({"before": args.before_tree} if args.before_tree else {})}
    with tempfile.TemporaryDirectory() as scratch:
        bomb = Path(scratch) / "bomb.jpg"
        bomb.write_bytes(solid_jpeg(6000, 6000))
        figures: dict[str, Any] = {
            when: {"qc_6000x6000": _measure(tree, "qc", bomb), "zip_700k": _measure(tree, "zip", bomb)}
            for when, tree in trees.items()
        }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    for when, runs in figures.items():
        for name, figure in runs.items():
            print(f"{when:7} {name:13} {figure}")


if __name__ == "__main__":
    main()
