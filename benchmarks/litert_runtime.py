"""LiteRT (ai-edge-litert) as the network's forward pass: int8 conversion, and the interpreter as a callable.

Measured, not the product's runtime. Issue 16 keeps a faster CPU runtime only if it changes the
cross-validation per-patient Dice by no more than 0.005 and no patient-level decision;
benchmarks/bench_runtime_agreement.py measures that by putting LiteRTForward where the
engine keeps its compiled TensorFlow graph (SegmentationEngine._forward).

TensorFlow (for the conversion) and ai_edge_litert (for the interpreter) are imported
inside the functions that need them; running a converted network needs no TensorFlow.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np


def convert_int8(model, size: int, calibration: Iterable[np.ndarray]) -> bytes:
    """The network as a full-integer LiteRT model (every op int8; float32 input and output).

    model: the Keras network; size: its input size (the manifest's); calibration: network
    inputs (n, size, size, channels) float32 made by the engine's own preprocessing
    (preprocessing.network_batch), fed one slice at a time to fix the activation ranges.
    The converted graph is the one the engine runs (engine.compiled), batch dimension free.
    """
    import tensorflow as tf

    from ich_viewer.segmentation.runtimes import compiled

    forward = compiled(model, size)
    batches = [np.asarray(batch, np.float32) for batch in calibration]

    def representative():
        for batch in batches:
            for i in range(len(batch)):
                yield [batch[i:i + 1]]

    converter = tf.lite.TFLiteConverter.from_concrete_functions([forward.get_concrete_function()], model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    return converter.convert()


class LiteRTForward:
    """A converted network as the engine calls its forward pass: (n, S, S, C) float32 -> (n, S, S, 1).

    The batch dimension is free in the converted model: a batch of another size (a study's
    shorter last batch) resizes the interpreter's tensors first.
    """

    def __init__(self, model_path: Path | str, num_threads: int = 1):
        from ai_edge_litert.interpreter import Interpreter

        self.model_path = Path(model_path)
        self._interpreter = Interpreter(model_path=str(self.model_path), num_threads=num_threads)
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._output = self._interpreter.get_output_details()[0]["index"]
        self._shape: tuple[int, ...] | None = None

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        batch = np.ascontiguousarray(batch, np.float32)
        if batch.shape != self._shape:
            self._interpreter.resize_tensor_input(self._input, batch.shape)
            self._interpreter.allocate_tensors()
            self._shape = batch.shape
        self._interpreter.set_tensor(self._input, batch)
        self._interpreter.invoke()
        return self._interpreter.get_tensor(self._output)
