"""How well the export-window estimate recovers known windows, and how fast it is.

    .venv/bin/python benchmarks/bench_export_window.py [--reference]

Prints, for ich_viewer.study.export_window.estimate_export_window:
  (a) the 82 CT-ICH patients' brain JPGs (known level 40 / width 120 HU): the error
      distribution of level and width, each patient estimated with a reference
      histogram built from the other 81 (leave one patient out);
  (b) the 26 slices of ct-ich-hu-subset (raw HU), each rendered by us at several
      windows, quantised to 8 bits, and also JPEG re-encoded at quality 75: level
      and width errors per window, with a reference built only from patients
      095-130 (the subset's patients are 049-094), so nothing is seen twice;
  the seconds per 40-slice 650 x 650 study.
--reference prints the INTRACRANIAL_HU_CDF table (all 82 patients) to paste into
the module. Needs ../shared/data (or $ICH_DATA).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # for tests.factories.images

from ich_viewer import paths  # noqa: E402  (imported once sys.path holds the repo root)
from ich_viewer.study import export_window as ew  # noqa: E402  (imported once sys.path holds the repo root)
from ich_viewer.study.export_window import window_text  # noqa: E402  (imported once sys.path holds the repo root)
from ich_viewer.study.model import CT_ICH_BRAIN_WINDOW, Window  # noqa: E402  (imported once sys.path holds the repo root)
from tests.factories.images import render_export  # noqa: E402  (imported once sys.path holds the repo root)

HU_SUBSET_WINDOWS = (Window(40, 80), Window(50, 150), Window(35, 250), Window(60, 100),
                     Window(30, 200), Window(40, 120), Window(80, 200), Window(50, 400))
JPEG_QUALITY = 75
LEVEL_TOLERANCE_HU, WIDTH_TOLERANCE = 10.0, 0.15  # the target


# --- data ----------------------------------------------------------------------------------
def ct_ich_patients() -> dict[str, np.ndarray]:
    """Patient number -> brain-window study (z, y, x), slices in number order (uint8: 1 GB in all)."""
    studies = {}
    for folder in sorted((paths.ct_ich_dir() / "Patients_CT").iterdir()):
        files = sorted((p for p in (folder / "brain").glob("*.jpg") if "_HGE_Seg" not in p.name),
                       key=lambda p: int(p.stem))
        studies[folder.name] = np.stack([cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in files])
    return studies


def hu_subset_slices() -> dict[str, np.ndarray]:
    import pydicom

    folder = paths.hu_subset_dir() / "images"
    return {p.stem: pydicom.dcmread(p).pixel_array.astype(np.float32) for p in sorted(folder.glob("*.dcm"))}


def render(hu: np.ndarray, window: Window, jpeg: bool) -> np.ndarray:
    """An HU slice as an exporter would write it, as a one-slice display study."""
    return render_export(hu, window, JPEG_QUALITY if jpeg else None)[None].astype(np.float32)


# --- the reference -------------------------------------------------------------------------
def grey_histogram(study: np.ndarray) -> np.ndarray:
    """Fractions of the study's intracranial pixels per grey level (256)."""
    counts = np.bincount(ew.intracranial_grey_levels(study), minlength=256).astype(float)
    return counts / counts.sum()


def reference_cdf(histograms: list[np.ndarray]) -> np.ndarray:
    """INTRACRANIAL_HU_CDF from L40/W120 grey-level histograms, every patient weighing the same.

    Each patient's CDF is first shifted so that its median falls on the median of the
    patients' medians: averaging unaligned CDFs would widen the reference by the spread
    of the patients' brain levels, and every estimate of width would come out too wide.
    """
    medians = [_hu_quantile(h, 0.5) for h in histograms]
    centre = float(np.median(medians))
    return np.mean([_hu_cdf(h, ew.REFERENCE_HU + median - centre)
                    for h, median in zip(histograms, medians)], axis=0)


def _hu_cdf(histogram: np.ndarray, hu: np.ndarray) -> np.ndarray:
    """The CDF of an L40/W120 grey-level histogram at these HU values."""
    window = CT_ICH_BRAIN_WINDOW
    grey = (np.asarray(hu) - window.low) * (255.0 / window.width)
    return np.interp(grey, np.arange(-0.5, 256.0), ew.grey_level_cdf(histogram))


def _hu_quantile(histogram: np.ndarray, fraction: float) -> float:
    hu = np.arange(-20.0, 100.0, 0.1)
    return float(np.interp(fraction, _hu_cdf(histogram, hu), hu))


# --- the measurements ------------------------------------------------------------------------
def errors(estimate: ew.WindowEstimate, truth: Window) -> tuple[float, float]:
    return estimate.window.level - truth.level, estimate.window.width / truth.width - 1


def within_target(rows: np.ndarray) -> np.ndarray:
    return (np.abs(rows[:, 0]) <= LEVEL_TOLERANCE_HU) & (np.abs(rows[:, 1]) <= WIDTH_TOLERANCE)


def flagged_text(rows: np.ndarray) -> str:
    missed = ~within_target(rows)
    uncertain = rows[:, 2].astype(bool)
    level_ok = (np.abs(rows[:, 0]) <= LEVEL_TOLERANCE_HU).sum()
    width_ok = (np.abs(rows[:, 1]) <= WIDTH_TOLERANCE).sum()
    return (f"within target {(~missed).sum()}/{len(rows)} (level {level_ok}, width {width_ok}); "
            f"flagged uncertain {uncertain.sum()} "
            f"({(uncertain & missed).sum()} of the {missed.sum()} outside the target)")


def distribution_table(rows: np.ndarray) -> str:
    """Percentiles of the signed errors: level in HU, width in % of the true width."""
    percentiles = (5, 25, 50, 75, 95)
    lines = ["    error        " + "".join(f"  p{p:<4d}" for p in percentiles) + "  max|err|"]
    for name, values, unit in (("level (HU)", rows[:, 0], 1), ("width (%)", rows[:, 1], 100)):
        cells = "".join(f"{unit * v:+7.1f}" for v in np.percentile(values, percentiles))
        lines.append(f"    {name:12s}{cells}  {unit * np.abs(values).max():7.1f}")
    return "\n".join(lines)


def window_row(label: str, rows: np.ndarray) -> str:
    level, width = np.abs(rows[:, 0]), 100 * np.abs(rows[:, 1])
    return (f"    {label:18s} level |err| median {np.median(level):4.1f} max {level.max():4.1f} HU | "
            f"width |err| median {np.median(width):4.1f} max {width.max():5.1f} % | {flagged_text(rows)}")


def measure_ct_ich(studies: dict[str, np.ndarray], histograms: dict[str, np.ndarray]) -> None:
    rows = []
    for name, study in studies.items():
        others = [h for other, h in histograms.items() if other != name]
        ew.INTRACRANIAL_HU_CDF = reference_cdf(others)
        estimate = ew.estimate_export_window(study)
        rows.append((*errors(estimate, CT_ICH_BRAIN_WINDOW), estimate.uncertain))
        if estimate.uncertain:
            print(f"  {name}: {estimate.note}")
    rows = np.array(rows)
    print(f"(a) CT-ICH brain JPGs (L40/W120), {len(rows)} patients, leave-one-patient-out reference:")
    print(distribution_table(rows))
    print(f"    {flagged_text(rows)}")


def measure_hu_subset(histograms: dict[str, np.ndarray]) -> None:
    ew.INTRACRANIAL_HU_CDF = reference_cdf([h for name, h in histograms.items() if int(name) >= 95])
    slices = hu_subset_slices()
    print(f"(b) HU subset, {len(slices)} single slices, reference from patients 095-130:")
    for jpeg in (False, True):
        for window in HU_SUBSET_WINDOWS:
            estimates = [ew.estimate_export_window(render(hu, window, jpeg)) for hu in slices.values()]
            rows = np.array([(*errors(e, window), e.uncertain) for e in estimates])
            print(window_row(f"{window_text(window)}{' JPEG q75' if jpeg else ''}", rows))


def measure_speed(studies: dict[str, np.ndarray]) -> None:
    study = next(iter(studies.values()))
    study = np.concatenate([study, study])[:40].astype(np.float32)
    ew.estimate_export_window(study)
    start = time.perf_counter()
    for _ in range(5):
        ew.estimate_export_window(study)
    print(f"speed: {(time.perf_counter() - start) / 5:.3f} s per 40-slice 650x650 study")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", action="store_true", help="print the reference table")
    args = parser.parse_args()
    studies = ct_ich_patients()
    histograms = {name: grey_histogram(study) for name, study in studies.items()}
    if args.reference:
        table = reference_cdf(list(histograms.values()))
        rows = [", ".join(f"{v:.4f}" for v in table[i:i + 8]) for i in range(0, table.size, 8)]
        print("INTRACRANIAL_HU_CDF = np.array([\n" + "".join(f"    {row},\n" for row in rows) + "])")
        return
    shipped = ew.INTRACRANIAL_HU_CDF
    measure_speed(studies)
    measure_ct_ich(studies, histograms)
    measure_hu_subset(histograms)
    ew.INTRACRANIAL_HU_CDF = shipped


if __name__ == "__main__":
    main()
