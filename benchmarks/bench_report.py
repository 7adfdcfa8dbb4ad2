"""Time and size of the PDF report for a 30-slice 512 x 512 study.

    .venv/bin/python benchmarks/bench_report.py [--runs 5]

Goals: median build time < 2 s and file size < 3 MB. The study is the
synthetic head phantom of the tests (hematoma on about half of the slices,
so six key-image pairs and a full bar chart). The first, cold run (imports,
font loading) is reported separately from the median of the warm runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # for tests.factories.synthetic_ct

from tests.factories.synthetic_ct import fake_segmentation, hematoma_phantom, memory_dicom_study  # noqa: E402  (imported once sys.path holds the repo root)

GOAL_SECONDS = 2.0
GOAL_MB = 3.0
METRICS = {"per_patient_dice_mean": 0.71, "slice_auc": 0.95, "patient_sensitivity": 0.91,
           "patient_specificity": 0.88}


def timed_report(study, segmentation, findings, out: Path) -> float:
    from ich_viewer.report import build_report

    start = time.perf_counter()
    build_report(study, findings, segmentation, out, metrics=METRICS)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    volume, mask = hematoma_phantom(n_slices=30, size=512)
    study = memory_dicom_study(volume, spacing=(5.0, 0.45, 0.45))
    segmentation = fake_segmentation(mask)
    cold_start = time.perf_counter()
    from ich_viewer.analysis import compute_study_findings

    findings = compute_study_findings(study, segmentation)
    findings_seconds = time.perf_counter() - cold_start

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "report.pdf"
        cold = timed_report(study, segmentation, findings, out)
        warm = [timed_report(study, segmentation, findings, out) for _ in range(args.runs)]
        size_mb = out.stat().st_size / 1e6

    median = statistics.median(warm)
    print(f"study: 30 x 512 x 512 HU, hemorrhage on {findings.n_slices_involved} slices, "
          f"{len(findings.key_slices())} key images")
    print(f"findings (volume, ABC/2, areas): {findings_seconds:.3f} s")
    print(f"report, first run (imports, fonts): {cold:.2f} s")
    print(f"report, median of {args.runs} runs: {median:.2f} s "
          f"(min {min(warm):.2f}, max {max(warm):.2f})  goal < {GOAL_SECONDS:g} s: "
          f"{'met' if median < GOAL_SECONDS else 'NOT met'}")
    print(f"PDF size: {size_mb:.2f} MB  goal < {GOAL_MB:g} MB: {'met' if size_mb < GOAL_MB else 'NOT met'}")


if __name__ == "__main__":
    main()
