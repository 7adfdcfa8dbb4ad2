"""Segmentation seen from the window: start the model late, segment on request, show progress.

The window owns one SegmentationControl: the one relay between the worker thread
holding the network (worker.py) and the window. It starts the thread the first time
it is needed and stops it when the window closes, numbers the requests and passes on
only the answers for the study on screen, as signals of the GUI thread. The network
is loaded only after the window has painted, so the reader sees the viewer (and the
first slice) before TensorFlow starts loading and competing for the CPU.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

from ich_viewer.analysis.review import Review
from ich_viewer.segmentation.model_file import DEFAULT_MODEL, model_path
from ich_viewer.study.model import Study
from ich_viewer.ui.worker import PythonThread, SegmentationWorker

PROGRESS_WIDTH = 230


class ProgressIndicator(QWidget):
    """Status-bar part: 'segmenting slice k of n' with Cancel, and where the model runs."""

    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.progress = QProgressBar()
        self.progress.setFixedWidth(PROGRESS_WIDTH)
        self.cancel_button = QToolButton(text="Cancel", autoRaise=True)
        self.cancel_button.setToolTip("Stop segmenting this study (S starts again)")
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.device_label = QLabel("Model: not loaded")
        self.device_label.setToolTip("Where the hemorrhage model runs")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.progress)
        layout.addWidget(self.cancel_button)
        layout.addWidget(self.device_label)
        self.show_idle()

    def show_running(self, n_slices: int, model_loaded: bool) -> None:
        self.progress.setRange(0, max(n_slices, 1))
        self.progress.setValue(0)
        self.progress.setFormat("segmenting slice %v of %m" if model_loaded else "loading the model…")
        self.progress.show()
        self.cancel_button.show()

    def show_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.progress.setFormat("segmenting slice %v of %m")

    def show_idle(self) -> None:
        self.progress.hide()
        self.cancel_button.hide()

    def show_device(self, text: str) -> None:
        self.device_label.setText(f"Model: {text}")


class AfterNextPaint(QObject):
    """Runs one pending callback right after a widget next paints (at once if it is not shown)."""

    def __init__(self, widget: QWidget) -> None:
        super().__init__(widget)
        self._widget = widget
        self._pending: Callable[[], object] | None = None
        widget.installEventFilter(self)

    def call(self, callback: Callable[[], object]) -> None:
        """Replace any callback still waiting: only the latest request matters."""
        self._pending = callback
        if not self._widget.isVisible():
            self._run_pending()

    def cancel(self) -> None:
        self._pending = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self._pending is not None:
            # After this paint has reached the screen, not inside it.
            QTimer.singleShot(0, self._run_pending)
        return False

    def _run_pending(self) -> None:
        callback, self._pending = self._pending, None
        if callback is not None:
            callback()


class SegmentationControl(QObject):
    """Requests segmentations of the study on screen and reports results, failures and progress."""

    result_ready = Signal(object, object)  # Study, Review
    preview_ready = Signal(object, object, object)  # Study, slice indices, their preliminary masks
    failed = Signal(str)  # a message for the reader
    cancelled = Signal()  # the worker stopped a job that was no longer wanted
    model_failed = Signal(str)
    model_ready = Signal(str)  # device
    _request = Signal(int, object)  # to the worker: request id, Study
    _request_model = Signal(bool)  # to the worker: force CPU

    def __init__(self, engine_factory, status: ProgressIndicator, force_cpu: Callable[[], bool],
                 parent: QObject | None = None, model_name: Callable[[], str] = lambda: DEFAULT_MODEL) -> None:
        super().__init__(parent)
        self._engine_factory = engine_factory
        self._model_name = model_name
        self._status = status
        self._force_cpu = force_cpu
        self._thread: PythonThread | None = None
        self._worker: SegmentationWorker | None = None
        self._last_id = 0
        self._current_id: int | None = None  # the request whose answers are passed on
        self._study: Study | None = None  # the study of the running request
        self._closed = False
        self.device: str | None = None  # set once the model is loaded
        self._focus = 0  # the slice on screen, for a worker started later
        self.model_error: str | None = None

    @property
    def running(self) -> bool:
        return self._study is not None

    @property
    def thread(self) -> PythonThread | None:
        """The worker's thread, once the model was first asked for (None before, and after closing)."""
        return self._thread

    def load_model(self) -> None:
        """Start loading the network in the worker (once; later calls do nothing)."""
        if self._thread is None and not self._closed:
            self._status.show_device("loading…")
            self._start_worker()
            self._request_model.emit(self._force_cpu())

    def segment(self, study: Study) -> None:
        """Segment a study; a job still running for another study is dropped."""
        self.load_model()
        if self._worker is None:
            return  # the window is closing
        self._drop_current()
        self._last_id += 1
        self._current_id, self._study = self._last_id, study
        self._worker.study_coming()
        self._request.emit(self._current_id, study)
        self._status.show_running(study.n_slices, model_loaded=self.device is not None)

    def set_focus(self, slice_index: int) -> None:
        """The reader is on this slice: the running segmentation does the slices around it next."""
        self._focus = slice_index
        if self._worker is not None:
            self._worker.set_focus(slice_index)

    def cancel(self) -> None:
        self._drop_current()
        self._study = None
        self._status.show_idle()

    def shutdown(self) -> None:
        """Stop the worker thread (waits for the batch in progress): the window is closing."""
        self._closed = True  # a load still scheduled (after a paint, a timer) must not start a thread
        self._stop_worker()

    def switch_model(self) -> None:
        """Let the loaded network go: the next segmentation loads the one model_name() now names."""
        self._stop_worker()
        self.device, self.model_error = None, None
        self._status.show_device("not loaded")

    def _drop_current(self) -> None:
        if self._current_id is not None and self._worker is not None:
            self._worker.cancel(self._current_id)
        self._current_id = None

    def _engine_for_chosen_model(self):
        """The factory the worker calls, bound to the chosen model (an unknown name fails the load,
        with the list of models, which the reader is told)."""
        name, factory = self._model_name(), self._engine_factory
        return lambda force_cpu=False: factory(model_path=model_path(name), force_cpu=force_cpu)

    def _start_worker(self) -> None:
        self._thread = PythonThread()
        self._thread.setObjectName("segmentation")
        self._worker = SegmentationWorker(self._engine_for_chosen_model())
        self._worker.moveToThread(self._thread)
        self._worker.set_focus(self._focus)
        self._request.connect(self._worker.segment)
        self._request_model.connect(self._worker.load_model)
        # Queued: the worker emits in its thread, these slots run in the GUI thread.
        self._worker.model_ready.connect(self._on_model_ready)
        self._worker.model_failed.connect(self._on_model_failed)
        self._worker.progress.connect(self._on_progress)
        self._worker.preview.connect(self._on_preview)
        self._worker.finished.connect(self._on_finished)
        self._worker.failed.connect(self._on_failed)
        self._worker.cancelled.connect(self._on_cancelled)
        self._thread.start()

    def _stop_worker(self) -> None:
        if self._thread is None:
            return
        self.cancel()
        self._thread.quit()
        self._thread.wait()
        self._request.disconnect()
        self._request_model.disconnect()
        self._thread = self._worker = None

    @Slot(object, str)
    def _on_model_ready(self, _info, device: str) -> None:
        self.device, self.model_error = device, None
        self._status.show_device(device)
        self.model_ready.emit(device)

    @Slot(str)
    def _on_model_failed(self, message: str) -> None:
        self.device, self.model_error = None, message
        self._status.show_device("not available")
        self.model_failed.emit(message)

    @Slot(int, int, int)
    def _on_progress(self, request_id: int, done: int, total: int) -> None:
        if request_id == self._current_id:
            self._status.show_progress(done, total)

    @Slot(int, object, object)
    def _on_preview(self, request_id: int, indices, masks) -> None:
        if request_id == self._current_id:
            self.preview_ready.emit(self._study, indices, masks)

    @Slot(int, object)
    def _on_finished(self, request_id: int, review: Review) -> None:
        if request_id != self._current_id:
            return
        study, self._study, self._current_id = self._study, None, None
        self._status.show_idle()
        self.device = review.result.device  # "CPU (GPU failed)" appears only once the GPU has failed
        self._status.show_device(self.device)
        self.result_ready.emit(study, review)

    @Slot(int, str)
    def _on_failed(self, request_id: int, message: str) -> None:
        if request_id != self._current_id:
            return
        self._study, self._current_id = None, None
        self._status.show_idle()
        self.failed.emit(message)

    @Slot(int)
    def _on_cancelled(self, _request_id: int) -> None:
        self.cancelled.emit()
