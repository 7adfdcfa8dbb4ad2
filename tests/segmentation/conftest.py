"""A tiny network with its manifest, for the engine's tests (no trained weights needed)."""

import pytest

from ich_viewer.segmentation.model_file import Thresholds, write_manifest
from ich_viewer.segmentation.networks import ich_unet25d
from ich_viewer.segmentation.preprocessing import NetworkInput


@pytest.fixture(scope="session")
def small_network(tmp_path_factory):
    """A tiny untrained network with 4 input channels, saved with its manifest."""
    folder = tmp_path_factory.mktemp("net")
    weights = folder / "tiny.keras"
    import keras

    keras.utils.set_random_seed(0)  # the same untrained weights every run: tests read its outlines
    ich_unet25d(channels=4, widths=(4, 4, 4, 4, 4)).save(weights)
    write_manifest(weights, "tiny", "0.1", "nothing: untrained", NetworkInput(size=64),
                   Thresholds(detection=0.7, min_lesion_px=3))
    return weights
