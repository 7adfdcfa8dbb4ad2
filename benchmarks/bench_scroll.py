"""Scrolling speed of the viewer: slices per second redrawn with an overlay on.

A synthetic 300 x 512 x 512 HU study with a reference mask is shown in the
main window (offscreen unless QT_QPA_PLATFORM says otherwise); each pass
steps through every slice and forces a synchronous repaint of the slice view.
Prints the median over the passes for filled and contour overlays and with
the overlay hidden, all with the on-image annotations on (orientation letters
need a DICOM geometry, which the study carries), then once with the
annotations hidden for comparison. Goal: >= 60 slices/s with the overlay and
the annotations on.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_scroll.py [--passes 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Keep the benchmark's window geometry out of the reader's real settings.
os.environ.setdefault("XDG_CONFIG_HOME", tempfile.mkdtemp(prefix="ich-bench-settings-"))

from PySide6.QtCore import QSettings

from ich_viewer.study.model import DicomGeometry, Study, StudyMetadata, Units
from ich_viewer.ui.app import make_application
from ich_viewer.ui.main_window import MainWindow
from ich_viewer.ui.overlay import REFERENCE_COLOUR, REFERENCE_LAYER, MaskLayer
from ich_viewer.ui.settings import ViewerSettings

GOAL = 60.0


def synthetic_head(n_slices: int = 300, size: int = 512) -> Study:
    """Skull ring and brain at ~35 HU with noise; reference bleed on the middle third of slices."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:size, :size]
    r = np.hypot(yy - size / 2, (xx - size / 2) * 1.2) / (size / 2)
    base = np.where(r < 0.8, 35.0, np.where(r < 0.88, 1200.0, -1000.0)).astype(np.float32)
    noise = rng.normal(0, 6, (16, size, size)).astype(np.float32)  # reused: cheap to build
    voxels = np.empty((n_slices, size, size), np.float32)
    for z in range(n_slices):
        np.add(base, noise[z % 16], out=voxels[z])
    mask = np.zeros(voxels.shape, bool)
    mask[n_slices // 3: 2 * n_slices // 3] = bleed_disc(size)
    # Geometry and names as a DICOM series has them, so every annotation is drawn.
    positions = np.array([[0.0, 0.0, 5.0 * z] for z in range(n_slices)])
    geometry = DicomGeometry(positions=positions, orientation=(1.0, 0.0, 0.0, 0.0, 1.0, 0.0))
    metadata = StudyMetadata(patient_name="TEST^SYNTHETIC", patient_id="BENCH", birth_date="19700101",
                             sex="F", study_date="20240101", series_number="2",
                             series_description="Head 5 mm", slice_thickness_mm=5.0)
    return Study(voxels=voxels, units=Units.HU, spacing_mm=(5.0, 0.45, 0.45), geometry=geometry,
                 metadata=metadata, source=Path("synthetic"), reference_mask=mask, description="bench")


def bleed_disc(size: int) -> np.ndarray:
    yy, xx = np.mgrid[:size, :size]
    return np.hypot(yy - size * 0.35, xx - size * 0.7) < size * 0.08


def one_pass(window: MainWindow, app) -> float:
    view = window.slice_view
    viewport = view.graphics.viewport()
    n = view.study.n_slices
    start = time.perf_counter()
    for z in range(n):
        view.set_slice(z)
        viewport.repaint()  # synchronous paint of this slice
        app.processEvents()
    return n / (time.perf_counter() - start)


def median_rate(window: MainWindow, app, passes: int) -> float:
    window.slice_view.set_slice(0)
    one_pass(window, app)  # warm-up: caches, first QImage buffers
    return statistics.median(one_pass(window, app) for _ in range(passes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--slices", type=int, default=300)
    args = parser.parse_args()

    app = make_application()
    # Scrolling alone: no segmentation competing for the CPU (settings of the benchmark's own).
    settings = ViewerSettings(QSettings(str(Path(tempfile.mkdtemp()) / "bench.ini"), QSettings.Format.IniFormat))
    settings.auto_segment = False
    window = MainWindow(settings)
    window.resize(1280, 860)
    window.show()
    study = synthetic_head(args.slices)
    window.show_study(study)
    app.processEvents()
    overlays = window.slice_view.overlays
    print(f"study {study.voxels.shape} float32 HU, view {window.slice_view.width()}x"
          f"{window.slice_view.height()} px, platform {app.platformName()}, {args.passes} passes")

    every_slice = np.broadcast_to(bleed_disc(study.voxels.shape[1]), study.voxels.shape)
    scenarios = (
        ("bleed on 1/3 of slices, filled", study.reference_mask, True, False),
        ("bleed on 1/3 of slices, contour", study.reference_mask, True, True),
        ("bleed on every slice, filled", every_slice, True, False),
        ("bleed on every slice, contour", every_slice, True, True),
        ("overlay hidden", study.reference_mask, False, False),
    )
    results = {}
    for label, mask, shown, contour in scenarios:
        overlays.add_layer(MaskLayer(REFERENCE_LAYER, mask, REFERENCE_COLOUR))
        overlays.set_shown(shown)
        overlays.set_contour(contour)
        results[label] = median_rate(window, app, args.passes)
        print(f"{label:34s} median {results[label]:7.1f} slices/s")
    window.slice_view.annotations.set_shown(False)
    overlays.add_layer(MaskLayer(REFERENCE_LAYER, study.reference_mask, REFERENCE_COLOUR))
    overlays.set_shown(True)
    overlays.set_contour(False)
    no_text = median_rate(window, app, args.passes)
    print(f"{'(annotations hidden, 1/3 filled)':34s} median {no_text:7.1f} slices/s")
    worst_on = min(rate for label, rate in results.items() if label != "overlay hidden")
    print(f"goal >= {GOAL:.0f} slices/s with the overlay on (worst case {worst_on:.1f}): "
          f"{'PASS' if worst_on >= GOAL else 'FAIL'}")
    window.close()


if __name__ == "__main__":
    main()
