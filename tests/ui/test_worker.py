"""The segmentation worker: results tagged by request, cancellation, errors, a free GUI thread."""

import time

import numpy as np
import pytest

from ich_viewer.segmentation.engine import SegmentationCancelled
from ich_viewer.segmentation.result import ModelInfo, SegmentationResult
from ich_viewer.study.model import Study, Units
from ich_viewer.ui.worker import SegmentationService

INFO = ModelInfo("fake", "0", "0" * 64, 0.5, 0.5, "none")


class FakeEngine:
    """Segments slice by slice with a pause, like the real engine's batches."""

    def __init__(self, force_cpu=False, fail=None):
        self.device = "CPU"
        self.info = INFO
        self.fail = fail

    def load(self):
        return INFO

    def segment(self, study, progress=None, is_cancelled=None):
        if self.fail:
            raise self.fail
        for z in range(study.n_slices):
            if is_cancelled and is_cancelled():
                raise SegmentationCancelled()
            time.sleep(0.02)
            if progress:
                progress(z + 1, study.n_slices)
        mask = study.voxels > 50
        return SegmentationResult(mask.astype(np.float32), mask, mask.any(axis=(1, 2)).astype(np.float32),
                                  INFO, self.device)


def _study(n=10, value=0.0):
    return Study(np.full((n, 8, 8), value, np.float32), Units.HU, (5, 1, 1), source=".")


@pytest.fixture
def service(qtbot):
    service = SegmentationService(engine_factory=FakeEngine)
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
