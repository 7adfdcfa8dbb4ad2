"""The networks' ONNX exports, run by ONNX Runtime or OpenVINO: listed and checked by manifest,
the same masks as TensorFlow."""

import contextlib
import shutil

import numpy as np
import pytest

from ich_viewer import paths
from ich_viewer.segmentation import runtimes
from ich_viewer.segmentation.engine import SegmentationEngine
from ich_viewer.segmentation.model_file import (
    ModelFileError,
    file_sha256,
    manifest_path,
    onnx_network_path,
    read_manifest,
    shipped_models,
)
from ich_viewer.study.loader import open_study
from ich_viewer.training.onnx_export import export_onnx
from tests.segmentation.test_engine import _study

with contextlib.suppress(ImportError):
    # Where the optional extra is installed: its import starts OpenVINO's telemetry sender (a
    # thread pool, runtimes.py), here rather than inside a test that checks for leftover threads.
    import openvino  # noqa: F401


@pytest.mark.parametrize("name", sorted(shipped_models()))
def test_every_shipped_network_lists_its_checked_onnx_export(name):
    weights = shipped_models()[name]
    manifest = read_manifest(weights)
    onnx = onnx_network_path(weights, manifest)
    assert onnx == weights.with_suffix(".onnx") and manifest.onnx_sha256 == file_sha256(onnx)


@pytest.fixture(scope="module")
def sample_study():
    return open_study(paths.sample_study_dir())


RUNTIME_NAMES = {runtimes.ONNXRUNTIME: "ONNX Runtime", runtimes.OPENVINO: "OpenVINO"}


def _needs(runtime):
    """OpenVINO is an optional extra (bench): its tests run where it is installed."""
    if runtime == runtimes.OPENVINO:
        pytest.importorskip("openvino")


@pytest.mark.parametrize("runtime", sorted(RUNTIME_NAMES))
@pytest.mark.parametrize("name", ["ich_unet25d_final", "two_branch_net"])
def test_the_export_gives_tensorflows_mask_on_the_sample(name, runtime, sample_study):
    _needs(runtime)
    weights = shipped_models()[name]
    by_onnx = SegmentationEngine(weights, force_cpu=True, runtime=runtime)
    by_tf = SegmentationEngine(weights, force_cpu=True, runtime=runtimes.TENSORFLOW)
    onnx_result, tf_result = by_onnx.segment(sample_study), by_tf.segment(sample_study)
    assert by_onnx.runtime.startswith(RUNTIME_NAMES[runtime]) and by_tf.runtime.startswith("TensorFlow")
    assert onnx_result.mask.any()
    np.testing.assert_array_equal(onnx_result.mask, tf_result.mask)
    np.testing.assert_allclose(onnx_result.slice_scores, tf_result.slice_scores, atol=1e-4)
    assert onnx_result.detected == tf_result.detected


def _copy_of(weights, folder):
    for path in (weights, manifest_path(weights), weights.with_suffix(".onnx")):
        shutil.copyfile(path, folder / path.name)
    return folder / weights.name


def test_onnx_runtime_runs_a_shipped_network_by_default():
    engine = SegmentationEngine(shipped_models()["two_branch_net"], force_cpu=True)
    engine.load()
    assert engine.runtime.startswith("ONNX Runtime") and engine.device == "CPU"


def test_a_corrupted_onnx_file_is_refused_by_name(tmp_path):
    copy = _copy_of(shipped_models()["two_branch_net"], tmp_path)
    with open(copy.with_suffix(".onnx"), "r+b") as f:
        f.seek(200)
        f.write(b"corrupt")
    with pytest.raises(ModelFileError, match=r"two_branch_net\.onnx: sha256 .* does not match"):
        SegmentationEngine(copy).load()


def test_a_missing_onnx_file_is_named(tmp_path):
    copy = _copy_of(shipped_models()["two_branch_net"], tmp_path)
    copy.with_suffix(".onnx").unlink()
    with pytest.raises(ModelFileError, match=r"two_branch_net\.onnx: ONNX network listed .* not found"):
        SegmentationEngine(copy).load()


def test_a_network_without_an_export_runs_in_tensorflow_unless_onnx_runtime_is_asked_for(small_network):
    engine = SegmentationEngine(small_network, force_cpu=True)
    engine.load()
    assert engine.runtime.startswith("TensorFlow") and engine.device == "CPU"
    with pytest.raises(ModelFileError, match="lists no ONNX export"):
        SegmentationEngine(small_network, runtime=runtimes.ONNXRUNTIME).load()
    with pytest.raises(ModelFileError, match="lists no ONNX export"):
        SegmentationEngine(small_network, runtime=runtimes.OPENVINO).load()
    with pytest.raises(ValueError, match="one of auto, tensorflow, onnxruntime, openvino"):
        SegmentationEngine(small_network, runtime="tflite")


def test_an_exported_network_is_listed_and_segments_as_keras_does(small_network, tmp_path):
    weights = tmp_path / small_network.name
    shutil.copyfile(small_network, weights)
    shutil.copyfile(manifest_path(small_network), manifest_path(weights))
    onnx = export_onnx(weights)
    assert read_manifest(weights).onnx == onnx.name and not onnx.with_suffix(".onnx.partial").exists()
    study, _ = _study(6)
    by_tf = SegmentationEngine(weights, force_cpu=True, batch_size=4, runtime=runtimes.TENSORFLOW)
    expected = by_tf.network_output(study).probability
    for runtime, name in RUNTIME_NAMES.items():
        if runtime == runtimes.OPENVINO and not runtimes.installed("openvino"):
            continue
        by_onnx = SegmentationEngine(weights, force_cpu=True, batch_size=4, runtime=runtime)
        np.testing.assert_allclose(by_onnx.network_output(study).probability, expected, atol=1e-5)
        assert by_onnx.runtime.startswith(name)
