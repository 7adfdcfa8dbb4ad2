"""The segmentation worker: one long-lived QObject in a QThread that owns the network.

The GUI thread never touches TensorFlow. SegmentationControl (segmentation_control.py)
sends requests (a request id and a Study) through a queued signal; the worker loads
and warms up the network on first use, segments in batches, measures the result (a
Review: the findings, every lesion measured), and answers with signals carrying the
request id, so that the control drops anything not for the study on
screen. Cancelling only sets a flag that the worker checks between batches.
"""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QObject, QThread, Signal, Slot

from ich_viewer.analysis.review import Review
from ich_viewer.segmentation.engine import SegmentationCancelled, SegmentationEngine, Segmenter
from ich_viewer.study.model import Study

log = logging.getLogger(__name__)


class SegmentationWorker(QObject):
    model_ready = Signal(object, str)  # ModelInfo, device
    model_failed = Signal(str)
    progress = Signal(int, int, int)  # request id, slices done, total
    preview = Signal(int, object, object)  # request id, slice indices, their preliminary masks
    finished = Signal(int, object)  # request id, Review (the result measured, ready for the window)
    failed = Signal(int, str)
    cancelled = Signal(int)

    def __init__(self, engine_factory=SegmentationEngine):
        super().__init__()
        self._engine_factory = engine_factory
        self._engine: Segmenter | None = None
        self._force_cpu = False
        self._lock = threading.Lock()
        self._cancelled_ids: set[int] = set()
        self._focus = 0  # the slice on screen: segmented first, then outward from it
        self._study_waiting = False  # a study was sent: the warm-up gives way to it

    # Called from the GUI thread: a flag only, the worker may be busy.
    def cancel(self, request_id: int) -> None:
        with self._lock:
            self._cancelled_ids.add(request_id)

    def _is_cancelled(self, request_id: int) -> bool:
        with self._lock:
            return request_id in self._cancelled_ids

    # Called from the GUI thread whenever the reader moves to another slice.
    def set_focus(self, slice_index: int) -> None:
        with self._lock:
            self._focus = slice_index

    # Called from the GUI thread just before it sends a study.
    def study_coming(self) -> None:
        with self._lock:
            self._study_waiting = True

    def _is_study_waiting(self) -> bool:
        with self._lock:
            return self._study_waiting

    def _current_focus(self) -> int:
        with self._lock:
            return self._focus

    @Slot(bool)
    def load_model(self, force_cpu: bool = False) -> None:
        """Load the network ahead of any study, then warm the whole pipeline up."""
        if self._load(force_cpu):
            try:
                self._engine.warm_up(is_cancelled=self._is_study_waiting)
            except Exception:  # only time is lost: the reader's study runs the same code
                log.exception("the pipeline's warm-up failed")

    def _load(self, force_cpu: bool) -> bool:
        """Load the network unless it is loaded; True when it was loaded now."""
        if self._engine is not None and self._force_cpu == force_cpu:
            self.model_ready.emit(self._engine.info, self._engine.device)
            return False
        try:
            self._force_cpu = force_cpu
            self._engine = self._engine_factory(force_cpu=force_cpu)
            info = self._engine.load()
        except Exception as error:  # noqa: BLE001  reported to the user, the viewer keeps going
            self._engine = None
            self.model_failed.emit(f"The hemorrhage model could not be loaded: {error}")
            return False
        self.model_ready.emit(info, self._engine.device)
        return True

    @Slot(int, object)
    def segment(self, request_id: int, study: Study) -> None:
        with self._lock:
            self._study_waiting = False
        if self._is_cancelled(request_id):
            self.cancelled.emit(request_id)
            return
        if self._engine is None:  # loaded with the study: no warm-up, the study is the first pass
            self._load(self._force_cpu)
            if self._engine is None:
                self.failed.emit(request_id, "no model loaded")
                return
        try:
            result = self._engine.segment(
                study,
                progress=lambda done, total: self.progress.emit(request_id, done, total),
                is_cancelled=lambda: self._is_cancelled(request_id),
                focus=self._current_focus,
                preview=lambda indices, masks: self.preview.emit(request_id, indices, masks),
            )
            # Measured here, not on the GUI thread: on a long series the findings take seconds.
            review = Review.of(study, result)
        except SegmentationCancelled:
            self.cancelled.emit(request_id)
        except MemoryError:
            self.failed.emit(request_id, "Out of memory while segmenting this study.")
        except Exception as error:
            log.exception("segmentation of %s failed", study.source)
            self.failed.emit(request_id, f"Segmentation failed: {error}")
        else:
            self.finished.emit(request_id, review)


class PythonThread(QThread):
    """A QThread whose event loop runs inside one Python call.

    Qt calls each queued slot of a plain QThread from C++, and Python gives every
    such call a fresh thread state, discarding thread-local data when it returns.
    TensorFlow keeps its eager context in Python thread-local storage, so a model
    loaded in one slot call and run in the next crashed (segfault in conv2d).
    With run() in Python, every slot call shares the one thread state of run().
    """

    def run(self) -> None:
        self.exec()
