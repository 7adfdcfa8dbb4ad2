"""Reformat speed: switching to the 3-view layout, and crosshair moves repainting the three views.

bench_scroll's synthetic head (300 x 512 x 512 HU, DICOM geometry, 5 mm slices of 0.45 mm pixels)
is shown in the main window (offscreen unless QT_QPA_PLATFORM says otherwise) and segmented by
a stand-in network without TensorFlow whose mask is the bleed on the middle third of the slices,
so the reformats draw the mask as well.

  switch, first   a fresh Study object (the same arrays) segmented in 1 view, then the L action
                  until the three views have painted (processEvents, which lays out and paints as the
                  event loop would, then a synchronous repaint of any view it left unpainted): the
                  reformats are scaled, fitted and drawn for the first time.
  switch, again   1 view and back to 3 views on the same study.
  crosshair       --moves moves along a diagonal through the volume, each changing the axial slice
                  and both reformat planes, each followed by a synchronous repaint of the three views;
                  also moves of the coronal and sagittal planes only (an axial click), and of the
                  slice only (scrolling in 3 views).

Prints the median of --runs runs of each. Goals: switch <= 0.5 s, crosshair >= 30 updates/s.

    QT_QPA_PLATFORM=offscreen OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_reformats.py [--runs 5]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Keep the benchmark's settings and autosaved edits out of the reader's own.
os.environ.setdefault("XDG_CONFIG_HOME", tempfile.mkdtemp(prefix="ich-bench-settings-"))
os.environ.setdefault("ICH_VIEWER_USER_DATA", tempfile.mkdtemp(prefix="ich-bench-data-"))

from bench_scroll import synthetic_head  # beside this script: the same head as the scrolling benchmark
from PySide6.QtCore import QEvent, QEventLoop, QObject, QSettings, QTimer

from ich_viewer.segmentation.result import ModelInfo, SegmentationResult
from ich_viewer.ui.app import make_application
from ich_viewer.ui.main_window import MainWindow
from ich_viewer.ui.settings import ViewerSettings

SWITCH_GOAL_S = 0.5
CROSSHAIR_GOAL = 30.0
STAND_IN = ModelInfo("stand-in", "0", "0" * 64, 0.5, 0.5, "none")


class StandInEngine:
    """SegmentationEngine's interface, answering with the study's reference mask at once."""

    def __init__(self, force_cpu=False, model_path=None) -> None:
        self.device = "CPU"

    def load(self) -> ModelInfo:
        return STAND_IN

    def segment(self, study, progress=None, is_cancelled=None, focus=None, preview=None):
        mask = study.reference_mask
        probability = np.broadcast_to(np.float32(0.9), mask.shape)  # not drawn: no 300 MB for it
        scores = mask.any(axis=(1, 2)).astype(np.float32)
        return SegmentationResult(probability, mask.copy(), scores, STAND_IN, self.device)


def wait_for(signal, app, timeout_ms: int = 120_000) -> None:
    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    signal.disconnect(loop.quit)


class PaintCounter(QObject):
    """Counts the paint events of the three views' viewports."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__()
        layout = window.three_views
        self.viewports = [view.graphics.viewport() for view in (window.slice_view, layout.coronal, layout.sagittal)]
        self.counts = dict.fromkeys(self.viewports, 0)
        self.total = 0
        for viewport in self.viewports:
            viewport.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Paint and watched in self.counts:
            self.counts[watched] += 1
            self.total += 1
        return False


def paint(counter: PaintCounter, app) -> None:
    """Let Qt lay out and paint as its event loop would, then repaint (synchronously) any view it
    did not paint: every view is on screen up to date when this returns, none painted twice for it."""
    before = dict(counter.counts)
    app.processEvents()
    for viewport in counter.viewports:
        if counter.counts[viewport] == before[viewport]:
            viewport.repaint()


def switch_seconds(window: MainWindow, app, counter: PaintCounter) -> float:
    start = time.perf_counter()
    window.actions_by_name["three_views"].trigger()
    paint(counter, app)
    return time.perf_counter() - start


def first_switch(window: MainWindow, app, counter: PaintCounter, study) -> float:
    if window.three_views.three_views:
        window.actions_by_name["three_views"].trigger()
    fresh = dataclasses.replace(study)  # a new study object: the reformats start from nothing
    window.show_study(fresh)
    window.segment_study()
    wait_for(window.findings_changed, app)
    app.processEvents()
    assert window.review is not None and window.review.study is fresh
    return switch_seconds(window, app, counter)


def again_switch(window: MainWindow, app, counter: PaintCounter) -> float:
    window.actions_by_name["three_views"].trigger()  # back to 1 view
    app.processEvents()
    return switch_seconds(window, app, counter)


def moves_per_second(window: MainWindow, app, counter: PaintCounter, path: list[tuple[int, int, int]]) -> float:
    layout = window.three_views
    start = time.perf_counter()
    for voxel in path:
        layout.set_crosshair(*voxel)
        paint(counter, app)
    return len(path) / (time.perf_counter() - start)


def paths(shape: tuple[int, int, int], n: int) -> dict[str, list[tuple[int, int, int]]]:
    nz, ny, nx = shape
    t = np.linspace(0.1, 0.9, n)
    z, y, x = (np.rint(t * (size - 1)).astype(int) for size in shape)
    zc, yc, xc = nz // 2, ny // 2, nx // 2
    return {
        "slice and both planes": list(zip(z, y, x)),
        "both planes (axial click)": [(zc, int(a), int(b)) for a, b in zip(y, x)],
        "slice only (scrolling)": [(int(a), yc, xc) for a in z],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--moves", type=int, default=120)
    parser.add_argument("--slices", type=int, default=300)
    args = parser.parse_args()

    app = make_application()
    settings = ViewerSettings(QSettings(str(Path(tempfile.mkdtemp()) / "bench.ini"), QSettings.Format.IniFormat))
    settings.auto_segment = False  # the benchmark segments when it chooses
    window = MainWindow(settings, engine_factory=StandInEngine)
    window.resize(1600, 1000)
    window.show()
    study = synthetic_head(args.slices)
    app.processEvents()
    print(f"study {study.voxels.shape} float32 HU, spacing {study.spacing_mm} mm, window "
          f"{window.width()}x{window.height()} px, platform {app.platformName()}, {args.runs} runs")

    counter = PaintCounter(window)
    firsts = [first_switch(window, app, counter, study) for _ in range(args.runs)]
    agains = [again_switch(window, app, counter) for _ in range(args.runs)]
    layout = window.three_views
    print(f"{'switch to 3 views, first':37s} median {statistics.median(firsts):6.3f} s  (max {max(firsts):.3f})")
    print(f"{'switch to 3 views, again':37s} median {statistics.median(agains):6.3f} s  (max {max(agains):.3f})")
    print(f"  views: axial {window.slice_view.width()}x{window.slice_view.height()}, coronal "
          f"{layout.coronal.width()}x{layout.coronal.height()}, sagittal "
          f"{layout.sagittal.width()}x{layout.sagittal.height()} px; mask on screen: "
          f"{layout.coronal.overlays.layer('Model') is not None}")

    rates = {}
    for label, path in paths(study.voxels.shape, args.moves).items():
        moves_per_second(window, app, counter, path[:10])  # warm-up
        painted = counter.total
        rates[label] = statistics.median(moves_per_second(window, app, counter, path) for _ in range(args.runs))
        per_move = (counter.total - painted) / (args.runs * len(path))
        print(f"{'crosshair, ' + label:37s} median {rates[label]:6.1f} updates/s  ({per_move:.1f} paints a move)")
    worst_switch = statistics.median(firsts)
    worst_rate = min(rates.values())
    print(f"goal switch <= {SWITCH_GOAL_S} s (first, median {worst_switch:.3f}): "
          f"{'PASS' if worst_switch <= SWITCH_GOAL_S else 'FAIL'}")
    print(f"goal crosshair >= {CROSSHAIR_GOAL:.0f} updates/s (worst case {worst_rate:.1f}): "
          f"{'PASS' if worst_rate >= CROSSHAIR_GOAL else 'FAIL'}")
    window.ask_unsaved_edits = lambda doing: "discard"
    window.close()


if __name__ == "__main__":
    main()
