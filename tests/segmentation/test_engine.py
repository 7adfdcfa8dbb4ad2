"""The engine's own loop on a tiny network: slice order, previews, cancellation, GPU fallback."""

import numpy as np
import pytest

from ich_viewer.segmentation.engine import SegmentationCancelled, SegmentationEngine, nearest_slices
from ich_viewer.study.model import Study, Units
from tests.factories.synthetic_ct import hematoma_phantom


def _study(n_slices: int = 20) -> tuple[Study, np.ndarray]:
    volume, bleed = hematoma_phantom(n_slices=n_slices, size=96)
    return Study(volume.astype(np.float32), Units.HU, (5.0, 0.5, 0.5), "."), bleed


def _engine(small_network, batch_size: int = 4) -> SegmentationEngine:
    engine = SegmentationEngine(small_network, force_cpu=True, batch_size=batch_size)
    engine.load()
    return engine


def _bright_centre(batch: np.ndarray) -> np.ndarray:
    """A 'network' that calls the centre slice's dense pixels blood (68 HU is 0.73 in L40/W120)."""
    return (batch[..., 1] > 0.6).astype(np.float32)


def test_the_nearest_slices_come_first_in_slice_order():
    assert nearest_slices(list(range(20)), 10, 4) == [8, 9, 10, 11]
    assert nearest_slices(list(range(20)), 0, 4) == [0, 1, 2, 3]  # no focus: the order of old
    assert nearest_slices([0, 1, 2, 17, 18, 19], 10, 3) == [2, 17, 18]
    assert nearest_slices([5], 0, 8) == [5]


def test_batches_follow_the_reader_and_give_the_same_probabilities(small_network):
    engine, (study, _) = _engine(small_network), _study()
    focus, batches = [10], []

    def preview(indices, masks):
        batches.append(list(indices))
        focus[0] = 19  # the reader scrolls to the last slice after the first batch

    output = engine.network_output(study, focus=lambda: focus[0], preview=preview)
    assert batches[0] == [8, 9, 10, 11] and batches[1] == [16, 17, 18, 19]
    assert sorted(z for b in batches for z in b) == list(range(20))  # every slice once
    in_order = engine.network_output(study)
    np.testing.assert_allclose(output.probability, in_order.probability, atol=1e-5)


def test_the_preview_outlines_what_the_finished_mask_outlines(small_network, monkeypatch):
    engine, (study, bleed) = _engine(small_network), _study()
    monkeypatch.setattr(engine, "_predict", _bright_centre)
    preview = np.zeros(study.voxels.shape, bool)

    def keep(indices, masks):
        assert masks.shape == (len(indices), *study.voxels.shape[1:])
        preview[indices] = masks

    result = engine.segment(study, focus=lambda: 10, preview=keep)
    assert result.mask.any() and not (result.mask & ~preview).any()  # the end only drops small lesions
    assert (preview & bleed).sum() / bleed.sum() > 0.8


def test_cancelling_stops_between_batches(small_network):
    engine, (study, _) = _engine(small_network), _study()
    done = []
    with pytest.raises(SegmentationCancelled):
        engine.segment(study, progress=lambda k, n: done.append(k), is_cancelled=lambda: bool(done))
    assert done == [4]


def test_a_failing_gpu_falls_back_to_the_cpu_and_says_so(small_network):
    engine, (study, _) = _engine(small_network), _study(6)
    engine.device = "GPU:0"

    def broken_gpu(batch):
        raise RuntimeError("CUDA_ERROR_OUT_OF_MEMORY")

    engine._forward = broken_gpu
    result = engine.segment(study)
    assert engine.device == "CPU (GPU failed)" and result.device == "CPU (GPU failed)"
    assert result.mask.shape == study.voxels.shape
