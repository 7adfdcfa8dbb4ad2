"""A network travels with its manifest: the engine loads by it and refuses what disagrees."""

import json

import numpy as np
import pytest

from ich_viewer.segmentation.engine import SegmentationEngine
from ich_viewer.segmentation.model_file import (
    ModelFileError,
    Thresholds,
    manifest_path,
    read_manifest,
)
from ich_viewer.segmentation.preprocessing import NetworkInput
from ich_viewer.study.model import Study, Units, Window


def test_the_manifest_round_trips(small_network):
    manifest = read_manifest(small_network)
    assert manifest.input == NetworkInput(size=64) and manifest.input.channels == 4
    assert manifest.thresholds == Thresholds(detection=0.7, min_lesion_px=3)
    assert manifest.name == "tiny" and manifest.training == "nothing: untrained"


def test_the_engine_prepares_input_as_the_manifest_says(small_network):
    engine = SegmentationEngine(small_network, force_cpu=True)
    info = engine.load()
    assert info.name == "tiny" and info.detection_threshold == 0.7 and "64x64" in info.preprocessing
    study = Study(np.full((3, 100, 120), 30, np.float32), Units.HU, (5, .5, .5), ".")
    output = engine.network_output(study)
    assert output.probability.shape == (3, 64, 64) and output.bone is not None
    result = engine.segment(study)
    assert result.mask.shape == (3, 100, 120)


def _edited(small_network, tmp_path, edit):
    weights = tmp_path / small_network.name
    weights.write_bytes(small_network.read_bytes())
    record = json.loads(manifest_path(small_network).read_text())
    edit(record)
    manifest_path(weights).write_text(json.dumps(record))
    return weights


@pytest.mark.parametrize("edit, message", [
    (lambda r: r.update(sha256="0" * 64), "does not match"),
    (lambda r: r["input"].update(bone_window=None), "takes 4 channels, its manifest describes 3"),
    (lambda r: r.update(weights="other.keras"), "describes other.keras"),
    (lambda r: r.update(format=99), "manifest format 99"),
    (lambda r: r.pop("thresholds"), "not a readable network manifest"),
])
def test_a_manifest_that_disagrees_with_its_weights_is_refused(small_network, tmp_path, edit, message):
    weights = _edited(small_network, tmp_path, edit)
    with pytest.raises(ModelFileError, match=message):
        SegmentationEngine(weights, force_cpu=True).load()


def test_weights_without_a_manifest_are_refused(small_network, tmp_path):
    weights = tmp_path / "alone.keras"
    weights.write_bytes(small_network.read_bytes())
    with pytest.raises(ModelFileError, match="manifest not found"):
        SegmentationEngine(weights).load()


def test_an_8bit_study_is_read_through_its_export_window(small_network):
    """The same anatomy exported at two windows reaches the network as the same brain window."""
    engine = SegmentationEngine(small_network, force_cpu=True)
    hu = np.random.default_rng(0).uniform(-20, 100, (1, 64, 64)).astype(np.float32)
    views = []
    for window in (Window(40, 120), Window(50, 200)):
        grey = np.clip((hu - window.low) / window.width, 0, 1) * 255
        views.append(engine.network_output(Study(grey, Units.DISPLAY, None, ".", export_window=window)).brain)
    assert np.abs(views[0] - views[1]).max() < 0.01


def test_shipped_models_are_listed_by_name_and_found_by_it():
    from ich_viewer.segmentation.model_file import model_path, shipped_models, shipped_network_path

    models = shipped_models()
    assert set(models) == {"ich_unet25d_final", *(f"ich_unet25d_fold{k}" for k in range(5)),
                           "reference_unet", "two_branch_net"}
    assert model_path("ich_unet25d_final") == shipped_network_path("final")
    assert model_path("two_branch_net").name == "two_branch_net.keras"
    with pytest.raises(ModelFileError, match="the models are: ich_unet25d_final, ich_unet25d_fold0"):
        model_path("reference-unet")


def test_a_manifest_without_the_contrast_step_reads_as_without_it():
    from ich_viewer.segmentation.model_file import _from_record, shipped_network_path

    record = json.loads(manifest_path(shipped_network_path("final")).read_text())
    record["input"].pop("equalised", None)  # as the manifests written before the notebook's networks
    assert not _from_record(record).input.equalised
