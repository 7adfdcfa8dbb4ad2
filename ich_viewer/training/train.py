"""Training one network: fixed seeds, progress lines, a checkpoint every epoch.

A run lives in its own folder (runs/NAME): checkpoint.keras (model and
optimizer), state.json (epochs done), log.csv and, when finished,
final.keras (weights only, no optimizer: what ships). Starting a run whose
folder holds a checkpoint resumes it after the last finished epoch.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from ich_viewer.segmentation.preprocessing import N_CHANNELS, NETWORK_SIZE
from ich_viewer.training.dataset import BatchSampler, PreparedPatient


@dataclass
class TrainConfig:
    architecture: str = "ich_unet25d"
    input_size: int = NETWORK_SIZE  # slices are resized to this
    crop: int = 160  # training crop (the network is fully convolutional)
    channels: int = N_CHANNELS
    loss: str = "bce_dice"  # or "bce"
    learning_rate: float = 2e-3
    final_learning_rate: float = 2e-5  # cosine decay to this
    epochs: int = 24
    steps_per_epoch: int = 64
    batch_size: int = 8
    augment: bool = True
    seed: int = 7


OURS = TrainConfig()
# A refinement run continues a finished OURS network for half its budget, from a
# lower rate, on its own hard examples (see hard_examples.py).
REFINE = replace(OURS, epochs=10, learning_rate=5e-4, final_learning_rate=1e-5, seed=8)
# Version 2.1: a second refinement of the refined network, on its own remaining
# hard examples, with the narrower exporter augmentation (augment.py).
TUNE = replace(OURS, epochs=12, learning_rate=3e-4, final_learning_rate=1e-5, seed=9)


def configure_tensorflow(threads: int | None = None) -> None:
    import tensorflow as tf

    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)


def _loss(name: str):
    import keras
    from keras import ops

    bce = keras.losses.BinaryCrossentropy()

    def bce_dice(y_true, y_pred):
        # Soft Dice over the batch: the 1% foreground would drown in plain cross-entropy.
        intersection = ops.sum(y_true * y_pred)
        dice = (2 * intersection + 1.0) / (ops.sum(y_true) + ops.sum(y_pred) + 1.0)
        return bce(y_true, y_pred) + (1.0 - dice)

    return bce_dice if name == "bce_dice" else bce


def _schedule(config: TrainConfig):
    import keras

    total = config.epochs * config.steps_per_epoch
    alpha = config.final_learning_rate / config.learning_rate
    return keras.optimizers.schedules.CosineDecay(config.learning_rate, total, alpha=alpha)


def _build(config: TrainConfig):
    from ich_viewer.segmentation.networks import ARCHITECTURES

    build = ARCHITECTURES[config.architecture]
    if config.architecture == "ich_unet25d":  # fully convolutional: any input size
        return build(channels=config.channels)
    return build(size=config.input_size, channels=config.channels)


def _new_model(config: TrainConfig):
    import keras

    keras.utils.set_random_seed(config.seed)
    model = _build(config)
    model.compile(optimizer=keras.optimizers.Adam(_schedule(config)), loss=_loss(config.loss))
    return model


def train_run(config: TrainConfig, patients: list[PreparedPatient], run_dir: Path,
              log=print, slices: list[tuple[int, int]] | None = None,
              start_from: Path | None = None, hard_examples: list | None = None) -> Path:
    """Train (or resume) one run; returns the path of the finished weights.

    start_from, hard_examples: a refinement run begins with these weights instead of
    a random start, and trains a third of each batch on these slices.
    """
    import keras

    run_dir.mkdir(parents=True, exist_ok=True)
    final = run_dir / "final.keras"
    if final.exists():
        log(f"{run_dir.name}: already finished")
        return final
    state_path, checkpoint = run_dir / "state.json", run_dir / "checkpoint.keras"
    done = json.loads(state_path.read_text())["epochs_done"] if checkpoint.exists() else 0
    if done:
        model = keras.models.load_model(checkpoint, custom_objects={"bce_dice": _loss("bce_dice")})
        log(f"{run_dir.name}: resuming after epoch {done}")
    else:
        model = _new_model(config)
        if start_from is not None:
            model.set_weights(keras.models.load_model(start_from, compile=False).get_weights())
        (run_dir / "config.json").write_text(json.dumps(asdict(config), indent=1))
    for epoch in range(done, config.epochs):
        # One sampler seed per epoch: a resumed run sees the same batches as an uninterrupted one.
        sampler = BatchSampler(patients, config.batch_size, config.crop, config.channels,
                               config.augment, seed=config.seed * 1000 + epoch,
                               input_size=config.input_size, slices=slices, hard_examples=hard_examples)
        started = time.perf_counter()
        losses = [float(model.train_on_batch(*sampler.batch())) for _ in range(config.steps_per_epoch)]
        seconds = time.perf_counter() - started
        log(f"{run_dir.name}: epoch {epoch + 1}/{config.epochs} loss {np.mean(losses):.4f} ({seconds:.0f} s)")
        model.save(checkpoint)
        state_path.write_text(json.dumps({"epochs_done": epoch + 1}))
        with open(run_dir / "log.csv", "a") as f:
            f.write(f"{epoch + 1},{np.mean(losses):.5f},{seconds:.1f}\n")
    _save_weights_only(model, config, final)
    return final


def _save_weights_only(model, config: TrainConfig, path: Path) -> None:
    """Ship the network without optimizer state (a third of the size, no custom loss needed)."""
    bare = _build(config)
    bare.set_weights(model.get_weights())
    tmp = path.with_name(path.name + ".tmp.keras")
    bare.save(tmp)
    tmp.replace(path)
