"""A shipped network exported for ONNX Runtime, and listed in its manifest only once it agrees with Keras.

The export is the engine's own TensorFlow graph (runtimes.compiled: batch free,
size fixed) converted by tf2onnx, the field's converter. Before the manifest
names it, the export and the Keras network run the same batches and must agree
to AGREEMENT in every probability; tests/segmentation/test_onnx_runtime.py then
checks whole studies end to end, and benchmarks/bench_runtime_agreement.py the
cross-validation.

    ich-viewer train --export-onnx    # every shipped network (after training, --ship does it)
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ich_viewer.segmentation.model_file import list_onnx, read_manifest, shipped_models

OPSET = 17
# float32 kernels in another order: differences of ~1e-6 are rounding; a wrong conversion is off by far more.
AGREEMENT = 1e-4


class ExportDisagrees(Exception):
    pass


def export_onnx(weights: Path) -> Path:
    """weights.onnx beside weights, checked, and listed in the manifest (which it then describes)."""
    import keras
    import tf2onnx

    from ich_viewer.segmentation.runtimes import OnnxNetwork, compiled

    spec = read_manifest(weights).input
    model = keras.models.load_model(weights, compile=False)
    forward = compiled(model, spec.size)
    target, partial = weights.with_suffix(".onnx"), weights.with_suffix(".onnx.partial")
    tf2onnx.convert.from_function(forward, input_signature=forward.input_signature, opset=OPSET,
                                  output_path=str(partial))
    exported = OnnxNetwork(partial, force_cpu=True)
    worst = max(float(np.abs(exported(batch) - np.asarray(forward(batch))[..., 0]).max())
                for batch in check_batches(spec.size, spec.channels))
    if worst > AGREEMENT:
        partial.unlink()
        raise ExportDisagrees(f"{weights.name}: the ONNX export differs from Keras by {worst:.2e} "
                              f"(at most {AGREEMENT:.0e}); not listed")
    os.replace(partial, target)
    list_onnx(weights, target)
    return target


def check_batches(size: int, channels: int) -> list[np.ndarray]:
    """Batches of 1, 5 and 8 (the engine's batch and a shorter last one), smooth blobs on noise in [0, 1]."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:size, :size] / size
    batches = []
    for n in (1, 5, 8):
        centres = rng.random((n, 1, 1, channels, 2))
        blob = np.exp(-(((yy[None, :, :, None] - centres[..., 0]) ** 2 + (xx[None, :, :, None] - centres[..., 1]) ** 2)
                        / 0.02))
        batches.append(np.clip(0.6 * blob + 0.3 * rng.random((n, size, size, channels)), 0, 1).astype(np.float32))
    return batches


def export_shipped() -> list[Path]:
    """Export every network in models/ (the manifests are rewritten to list them)."""
    return [export_onnx(weights) for weights in shipped_models().values()]
