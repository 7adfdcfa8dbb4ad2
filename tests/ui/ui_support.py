"""Helpers shared by the GUI tests: synthetic studies, a fake network, mouse drags, the QThread check.

A module of its own (not conftest) so that test files can import it by name.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt, QThread
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from ich_viewer.segmentation.engine import SegmentationCancelled, nearest_slices
from ich_viewer.segmentation.result import ModelInfo, SegmentationResult
from ich_viewer.study.model import Study, Units, Window
from ich_viewer.study.qc import QcKind, QcWarning

# The synthetic HU study: 20 slices of 96 rows x 128 columns, non-square pixels.
N_SLICES, N_ROWS, N_COLUMNS = 20, 96, 128
SPACING_MM = (5.0, 0.5, 0.25)
KNOWN_PIXEL = (7, 30, 40)  # (z, y, x)
KNOWN_HU = 45.0
DICOM_WINDOW = Window(35, 90)


def make_hu_study(**changes) -> Study:
    """A synthetic head: slice z holds HU z*10 everywhere, one known pixel, a square 'bleed'."""
    z = np.arange(N_SLICES, dtype=np.float32)[:, None, None]
    voxels = np.broadcast_to(z * 10, (N_SLICES, N_ROWS, N_COLUMNS)).copy()
    voxels[KNOWN_PIXEL] = KNOWN_HU
    mask = np.zeros(voxels.shape, bool)
    mask[5:12, 40:60, 50:80] = True
    fields = dict(
        voxels=voxels,
        units=Units.HU,
        spacing_mm=SPACING_MM,
        source=Path("/synthetic/hu"),
        description="Synthetic head CT",
        dicom_windows=[DICOM_WINDOW],
        reference_mask=mask,
        warnings=[QcWarning(QcKind.MISSING_SLICES, "Slice 3 is missing (synthetic warning)")],
        slice_labels=[str(100 + i) for i in range(N_SLICES)],
    )
    fields.update(changes)
    return Study(**fields)


def make_display_study(**changes) -> Study:
    voxels = np.full((6, 40, 50), 123, np.float32)
    fields = dict(voxels=voxels, units=Units.DISPLAY, spacing_mm=None,
                  source=Path("/synthetic/jpg"))
    fields.update(changes)
    return Study(**fields)


def running_qthreads(threads) -> list[QThread]:
    alive = []
    for ref in threads:
        thread = ref()
        try:
            if thread is not None and thread.isRunning():
                alive.append(thread)
        except RuntimeError:  # the C++ object is already gone: not running
            pass
    return alive


# -- a network without TensorFlow -------------------------------------------------------------
FAKE_MODEL = ModelInfo("fake", "0", "0" * 64, 0.5, 0.5, "none")
FAKE_INSIDE, FAKE_OUTSIDE = 0.9, 0.05  # probabilities inside / outside the fake mask


def bright_voxels(study: Study) -> np.ndarray:
    return study.voxels > 50


class FakeEngine:
    """Stands in for SegmentationEngine: segments slice by slice (like the real batches), no TensorFlow.

    mask_of(study) is the "model's" mask; the probability is FAKE_INSIDE on it, FAKE_OUTSIDE elsewhere.
    """

    def __init__(self, force_cpu=False, mask_of=bright_voxels, delay_s=0.0, fail=None, device="CPU",
                 model_path=None):
        self.force_cpu = force_cpu
        self.model_path = model_path
        self.device = device
        # Named as the real engine names a model: by its file in models/.
        self.info = replace(FAKE_MODEL, file=Path(model_path).stem) if model_path else FAKE_MODEL
        self.mask_of, self.delay_s, self.fail = mask_of, delay_s, fail

    def load(self):
        return self.info

    def segment(self, study, progress=None, is_cancelled=None, focus=None, preview=None):
        if self.fail:
            raise self.fail
        mask = np.asarray(self.mask_of(study), bool)
        remaining = list(range(study.n_slices))
        while remaining:  # a slice a batch, nearest to the reader's slice first, as the real engine
            if is_cancelled and is_cancelled():
                raise SegmentationCancelled()
            time.sleep(self.delay_s)
            done = nearest_slices(remaining, focus() if focus else 0, 1)
            remaining.remove(done[0])
            if preview:
                preview(done, mask[done])
            if progress:
                progress(study.n_slices - len(remaining), study.n_slices)
        probability = np.where(mask, FAKE_INSIDE, FAKE_OUTSIDE).astype(np.float32)
        return SegmentationResult(probability, mask, probability.max(axis=(1, 2)), self.info, self.device)


def fake_engine(**options):
    """An engine factory, as SegmentationControl and MainWindow take it."""
    return lambda force_cpu=False, model_path=None: FakeEngine(force_cpu, model_path=model_path, **options)


# -- mouse --------------------------------------------------------------------------------------
def send_mouse(viewport, kind, pos: QPointF, button, buttons, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    global_pos = QPointF(viewport.mapToGlobal(pos.toPoint()))
    QApplication.sendEvent(viewport, QMouseEvent(kind, pos, global_pos, button, buttons, modifiers))


def wheel(window, notches: int, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    """Roll the mouse wheel over the middle of the slice view (positive: away from the reader)."""
    viewport = window.slice_view.graphics.viewport()
    pos = QPointF(viewport.rect().center())
    event = QWheelEvent(
        pos, QPointF(viewport.mapToGlobal(pos.toPoint())), QPoint(), QPoint(0, 120 * notches),
        Qt.MouseButton.NoButton, modifiers, Qt.ScrollPhase.NoScrollPhase, False,
    )
    QApplication.sendEvent(viewport, event)


def mouse_drag(viewport, button, points: list[QPointF]) -> None:
    """Press at points[0], move through the others, release at the last."""
    send_mouse(viewport, QEvent.Type.MouseButtonPress, points[0], button, button)
    for pos in points[1:]:
        QTest.qWait(12)  # pyqtgraph drops mouse moves closer than 10 ms apart
        send_mouse(viewport, QEvent.Type.MouseMove, pos, Qt.MouseButton.NoButton, button)
    send_mouse(viewport, QEvent.Type.MouseButtonRelease, points[-1], button, Qt.MouseButton.NoButton)


# -- a study whose "model" mask is known, for checking the figures by hand ------------------------
# Slices 6-9 hold 20 x 40 pixels each; slice 8 another 10 x 40 below: 4 slices, 3600 voxels.
MODEL_SLICES = (6, 7, 8, 9)
LARGEST_SLICE = 8


def known_model_mask() -> np.ndarray:
    mask = np.zeros((N_SLICES, N_ROWS, N_COLUMNS), bool)
    mask[6:10, 30:50, 40:80] = True
    mask[8, 50:60, 40:80] = True
    return mask


def known_mask(study: Study) -> np.ndarray:
    """The fake network's answer for the synthetic HU study."""
    return known_model_mask()


def reference_as_model(study: Study) -> np.ndarray:
    """A fake network that answers each study with its own reference mask."""
    return study.reference_mask.copy()
