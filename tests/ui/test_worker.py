"""The segmentation relay (worker thread -> SegmentationControl -> window): answers only for the
study on screen, cancellation, errors, a model that survives between requests."""

import threading

import numpy as np
import pytest

from ich_viewer.study.model import Study, Units
from ich_viewer.ui.segmentation_control import ProgressIndicator, SegmentationControl
from tests.factories.fakes import FakeEngine, fake_engine


def _study(n=10, value=0.0):
    return Study(np.full((n, 8, 8), value, np.float32), Units.HU, (5, 1, 1), source=".")


def _control(qtbot, factory):
    status = ProgressIndicator()
    qtbot.addWidget(status)
    # The control binds the chosen model's path; these fakes take it and ignore it.
    return SegmentationControl(lambda model_path=None, force_cpu=False: factory(force_cpu=force_cpu), status,
                               lambda: False), status


@pytest.fixture
def control(qtbot):
    control, status = _control(qtbot, fake_engine(delay_s=0.02))
    yield control, status
    control.shutdown()


def test_the_result_is_for_the_study_asked_and_progress_is_shown(control, qtbot):
    control, status = control
    shown = []
    status.progress.valueChanged.connect(shown.append)
    study = _study(value=100)
    with qtbot.waitSignal(control.result_ready, timeout=5000) as blocker:
        control.segment(study)
    answered, review = blocker.args
    assert answered is study and not control.running
    assert review.result.mask.all()
    assert review.findings.detected  # measured in the worker, before it reached the GUI thread
    assert shown[-1] == 10 and status.progress.isHidden()  # 10 of 10 slices, then idle


def test_a_new_study_drops_the_running_job(control, qtbot):
    control, _ = control
    results = []
    control.result_ready.connect(lambda study, review: results.append(study))
    control.segment(_study(n=50))
    second = _study(n=3, value=100)
    with qtbot.waitSignal(control.cancelled, timeout=5000):
        control.segment(second)
    qtbot.waitUntil(lambda: results == [second], timeout=5000)
    qtbot.wait(100)
    assert results == [second]  # nothing of the first study reached the window


@pytest.mark.parametrize("engine, message", [
    (FakeEngine(fail=MemoryError()), "Out of memory"),
    # The worker measures the result: a mask of another shape is named in the failure.
    (FakeEngine(mask_of=lambda study: np.ones((study.n_slices, 4, 4), bool)), "does not fit the study (10, 8, 8)"),
], ids=["out of memory", "mask of another shape"])
def test_worker_errors_reach_the_gui_as_messages(qtbot, engine, message):
    control, _ = _control(qtbot, lambda force_cpu=False: engine)
    try:
        with qtbot.waitSignal(control.failed, timeout=5000) as blocker:
            control.segment(_study())
        assert message in blocker.args[0] and not control.running
    finally:
        control.shutdown()


def test_unloadable_model_is_reported(qtbot):
    def broken(force_cpu=False):
        raise OSError("models/x.keras: network file not found")

    control, status = _control(qtbot, broken)
    try:
        with qtbot.waitSignal(control.model_failed, timeout=5000) as blocker:
            control.load_model()
        assert "network file not found" in blocker.args[0]
        assert control.model_error == blocker.args[0] and status.device_label.text() == "Model: not available"
    finally:
        control.shutdown()


class ThreadLocalEngine(FakeEngine):
    """Keeps its 'model' in thread-local storage, as TensorFlow keeps its eager context."""

    def load(self):
        self._local = threading.local()
        self._local.model = "loaded"
        return super().load()

    def segment(self, study, **callbacks):
        if getattr(self._local, "model", None) != "loaded":
            raise RuntimeError("the worker thread lost its thread-local state between requests")
        return super().segment(study, **callbacks)


def test_a_model_loaded_in_one_request_is_usable_in_the_next(qtbot):
    """Loading and segmenting are separate slot calls; TensorFlow segfaulted when they ran in
    different Python thread states of the same QThread."""
    control, _ = _control(qtbot, ThreadLocalEngine)
    try:
        with qtbot.waitSignal(control.model_ready, timeout=5000):
            control.load_model()
        with qtbot.waitSignal(control.result_ready, timeout=5000):
            control.segment(_study())
    finally:
        control.shutdown()


class WarmingEngine(FakeEngine):
    """Warms up slowly, batch by batch, until a study is waiting; records both."""

    def __init__(self, **options):
        super().__init__(**options)
        self.warm_batches, self.studies = 0, []

    def warm_up(self, is_cancelled=None):
        while not is_cancelled() and self.warm_batches < 500:
            self.warm_batches += 1
            threading.Event().wait(0.01)

    def segment(self, study, **callbacks):
        self.studies.append(study)
        return super().segment(study, **callbacks)


def test_the_warm_up_follows_the_load_and_gives_way_to_a_study(qtbot):
    engine = WarmingEngine()
    control, _ = _control(qtbot, lambda force_cpu=False: engine)
    try:
        with qtbot.waitSignal(control.model_ready, timeout=5000):
            control.load_model()
        qtbot.waitUntil(lambda: engine.warm_batches > 2, timeout=5000)
        study = _study(value=100)
        with qtbot.waitSignal(control.result_ready, timeout=3000):  # long before 500 warm-up batches
            control.segment(study)
        assert engine.studies == [study] and engine.warm_batches < 500
    finally:
        control.shutdown()


def test_closing_stops_the_thread_and_no_load_starts_after(qtbot, control):
    control, _ = control
    control.load_model()
    assert control.thread is not None and control.thread.isRunning()
    control.shutdown()
    assert control.thread is None
    control.load_model()  # a load scheduled before closing, firing late
    assert control.thread is None
