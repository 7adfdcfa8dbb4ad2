"""The engine's own loop on a tiny network: slice order, previews, cancellation, GPU fallback."""

import numpy as np
import pytest

from ich_viewer.segmentation.engine import SegmentationCancelled, SegmentationEngine, nearest_slices
from ich_viewer.segmentation.postprocessing import drop_small_lesions, skull_rule
from ich_viewer.segmentation.preprocessing import batch_input, network_batch, study_views, to_study_grid
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


def _bright_centre_and_specks(batch: np.ndarray) -> np.ndarray:
    """_bright_centre, and specks where the input happens to hit a pattern: noise for the lesion rule to drop."""
    specks = (np.round(batch[..., 1] * 1000).astype(int) % 97 == 0) & (batch[..., 1] > 0.2)
    return np.maximum(_bright_centre(batch), specks * np.float32(0.8))


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

    followed = engine.segment(study, focus=lambda: focus[0], preview=preview)
    # The slice on screen alone first (its outline at once), then batches of 4 around the reader.
    assert batches[0] == [10] and batches[1] == [16, 17, 18, 19]
    assert sorted(z for b in batches for z in b) == list(range(20))  # every slice once
    in_order = engine.segment(study)
    np.testing.assert_allclose(np.asarray(followed.probability, np.float32),
                               np.asarray(in_order.probability, np.float32), atol=1e-3)
    np.testing.assert_allclose(followed.slice_scores, in_order.slice_scores, atol=1e-5)


def test_a_batch_is_made_from_its_own_slices_as_from_the_whole_study(small_network):
    engine, (study, _) = _engine(small_network), _study()
    spec = engine.manifest.input
    brain, bone = study_views(study, spec)
    for indices in ([0, 1, 2, 3], [2, 17, 18], [19], [5, 9]):  # the study's edges, and gaps a reader leaves
        batch, own_brain, own_bone = batch_input(study, spec, indices)
        np.testing.assert_array_equal(batch, network_batch(brain, bone, indices, spec.context_slices))
        np.testing.assert_array_equal(own_brain, brain[indices])
        np.testing.assert_array_equal(own_bone, bone[indices])


@pytest.mark.parametrize("network", ["tiny", "bright centre and specks"])
def test_segmenting_batch_by_batch_gives_the_mask_of_the_whole_study_at_once(small_network, monkeypatch, network):
    """As the engine worked before (the views and the float32 output of the whole study, then cleaned)."""
    engine, (study, _) = _engine(small_network), _study()
    if network != "tiny":
        monkeypatch.setattr(engine, "_predict", _bright_centre_and_specks)
    spec, thresholds = engine.manifest.input, engine.manifest.thresholds
    brain, bone = study_views(study, spec)
    batches = [list(range(start, start + 4)) for start in range(0, study.n_slices, 4)]  # the engine's own
    probability = np.concatenate([engine._predict(network_batch(brain, bone, b, spec.context_slices))
                                  for b in batches])
    cleaned = drop_small_lesions(skull_rule(probability, brain, bone, thresholds), thresholds.mask,
                                 thresholds.min_lesion_px)
    preliminary = []
    result = engine.segment(study, preview=lambda indices, masks: preliminary.append(masks.sum()))
    assert result.mask.any() and (network == "tiny" or result.mask.sum() < sum(preliminary))  # specks dropped
    np.testing.assert_array_equal(result.mask, to_study_grid(cleaned, study.voxels.shape[1:]) >= thresholds.mask)
    np.testing.assert_array_equal(result.slice_scores, cleaned.max(axis=(1, 2)))


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


def test_the_warm_up_runs_the_whole_pipeline_and_gives_way_when_asked(small_network, monkeypatch):
    engine = _engine(small_network)
    batches = []
    network = engine._network
    engine._network = lambda batch: batches.append(len(batch)) or network(batch)
    engine.warm_up()
    assert batches == [1, 4, 4]  # the slice on screen alone, then full batches: the shapes a study uses
    batches.clear()
    engine.warm_up(is_cancelled=lambda: True)  # a study was sent: nothing more is run
    assert batches == []


def test_a_failing_gpu_falls_back_to_the_cpu_and_says_so(small_network):
    engine, (study, _) = _engine(small_network), _study(6)
    engine.load()
    engine.device, on_cpu = "GPU:0", engine._network.on_cpu

    class BrokenGpu:
        def __call__(self, batch):
            raise RuntimeError("CUDA_ERROR_OUT_OF_MEMORY")

        def on_cpu(self):
            return on_cpu()

    engine._network = BrokenGpu()
    result = engine.segment(study)
    assert engine.device == "CPU (GPU failed)" and result.device == "CPU (GPU failed)"
    assert result.mask.shape == study.voxels.shape
