"""Where the time of one 512 x 512 slice goes, and what smaller networks would cost.

    .venv/bin/python benchmarks/bench_speed_budget.py [repeats]

Prints ms per slice (median of `repeats`, each over a 30-slice study, 2 threads):
preprocessing, postprocessing, the reference U-Net's network alone, and our
architecture at several input sizes and widths (untrained: only the cost is
measured, not the accuracy). Issue 3 asks for 10x the reference U-Net's speed;
this shows how much of that budget the fixed pre- and postprocessing leave.
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from ich_viewer.segmentation.model_file import Thresholds
from ich_viewer.segmentation.networks import ich_unet25d, reference_unet
from ich_viewer.segmentation.postprocessing import postprocess
from ich_viewer.segmentation.preprocessing import N_CHANNELS, NETWORK_SIZE, network_batch, study_views
from ich_viewer.segmentation.runtimes import compiled
from ich_viewer.study.model import Study, Units
from ich_viewer.training.baselines import median_seconds
from ich_viewer.training.train import configure_tensorflow

N_SLICES = 30
SHIPPED_WIDTHS = (16, 24, 40, 64, 96)
HALF_WIDTHS = (8, 12, 20, 32, 48)


def ms_per_slice(call, repeats: int) -> float:
    return 1000 * median_seconds(call, repeats) / N_SLICES


def main(repeats: int) -> dict:
    configure_tensorflow(2)
    rng = np.random.default_rng(0)
    study = rng.integers(-1000, 1500, (N_SLICES, 512, 512)).astype(np.float32)
    probability = rng.random((N_SLICES, NETWORK_SIZE, NETWORK_SIZE), dtype=np.float32)
    hu_study = Study(study, Units.HU, None, ".")

    def prepare():
        brain, bone = study_views(hu_study)
        return network_batch(brain, bone, range(N_SLICES))

    brain, bone = study_views(hu_study)
    figures = {
        "preprocessing": ms_per_slice(prepare, repeats),
        "postprocessing": ms_per_slice(lambda: postprocess(probability, brain, bone, (512, 512), Thresholds()),
                                       repeats),
    }
    reference = compiled(reference_unet(), 160)
    x = rng.random((N_SLICES, 160, 160, 1), dtype=np.float32)
    figures["reference_unet_network_160"] = ms_per_slice(lambda: reference(x), repeats)
    for label, widths in (("shipped_widths", SHIPPED_WIDTHS), ("half_widths", HALF_WIDTHS)):
        network = ich_unet25d(widths=widths)
        for size in (256, 192, 128):
            forward = compiled(network, size)
            x = rng.random((N_SLICES, size, size, N_CHANNELS), dtype=np.float32)
            figures[f"ours_{label}_network_{size}"] = ms_per_slice(lambda x=x, forward=forward: forward(x), repeats)
    # The most any network of ours could gain: its own time zero, the reference charged
    # the same pre- and postprocessing (its own resizing costs about as much).
    fixed = figures["preprocessing"] + figures["postprocessing"]
    figures["ceiling_speedup_if_our_network_took_no_time"] = (
        (figures["reference_unet_network_160"] + fixed) / fixed)
    figures["note"] = f"ms per slice, median of {repeats}, {N_SLICES}-slice study, 2 threads"
    return figures


if __name__ == "__main__":
    result = main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
    print(json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in result.items()}, indent=1))
