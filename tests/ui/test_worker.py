"""The segmentation worker: results tagged by request, cancellation, errors, a free GUI thread."""

import threading

import numpy as np
import pytest

from ich_viewer.study.model import Study, Units
from ich_viewer.ui.worker import SegmentationService
from ui_support import FakeEngine, fake_engine

def _study(n=10, value=0.0):
    return Study(np.full((n, 8, 8), value, np.float32), Units.HU, (5, 1, 1), source=".")


@pytest.fixture
def service(qtbot):
    service = SegmentationService(engine_factory=fake_engine(delay_s=0.02))
    yield service
    service.shutdown()


def test_result_carries_the_request_id_and_progress(service, qtbot):
    progress = []
    service.progress.connect(lambda rid, done, total: progress.append((rid, done, total)))
    with qtbot.waitSignal(service.finished, timeout=5000) as blocker:
        request = service.segment(_study(value=100))
    rid, result = blocker.args
    assert rid == request and not service.is_current(rid)  # done: nothing running
    assert result.mask.all()
    qtbot.waitUntil(lambda: len(progress) == 10)
    assert progress[-1] == (request, 10, 10)


def test_a_new_study_drops_the_running_job(service, qtbot):
    cancelled = []
    service.cancelled.connect(cancelled.append)
    first = service.segment(_study(n=50))
    with qtbot.waitSignal(service.finished, timeout=5000) as blocker:
        second = service.segment(_study(n=3, value=100))
    assert blocker.args[0] == second
    qtbot.waitUntil(lambda: cancelled == [first])


def test_worker_errors_reach_the_gui_as_messages(qtbot):
    service = SegmentationService(engine_factory=lambda force_cpu=False: FakeEngine(fail=MemoryError()))
    try:
        with qtbot.waitSignal(service.failed, timeout=5000) as blocker:
            service.segment(_study())
        assert "Out of memory" in blocker.args[1]
    finally:
        service.shutdown()


def test_unloadable_model_is_reported(qtbot):
    def broken(force_cpu=False):
        raise OSError("models/x.keras: network file not found")

    service = SegmentationService(engine_factory=broken)
    try:
        with qtbot.waitSignal(service.model_failed, timeout=5000) as blocker:
            service.load_model()
        assert "network file not found" in blocker.args[0]
    finally:
        service.shutdown()


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
    service = SegmentationService(engine_factory=ThreadLocalEngine)
    try:
        with qtbot.waitSignal(service.model_ready, timeout=5000):
            service.load_model()
        with qtbot.waitSignal(service.finished, timeout=5000):
            service.segment(_study())
    finally:
        service.shutdown()
