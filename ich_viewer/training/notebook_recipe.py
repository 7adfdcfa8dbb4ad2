"""The reference notebook's training recipe, reproduced beside ours to train its two networks.

What the notebook did, and what this module does the same way:

- CT-ICH brain-window slices resized to 160 x 160, divided by 255, histogram
  equalised and stretched (2nd-98th percentile); slices without hemorrhage
  get all-black masks;
- offline augmentation of the hemorrhage slices (rotation up to 5 degrees,
  horizontal flip, zoom 0.1) until there are as many as normal slices;
- a random 80/20 split of that balanced pool into training and test, then
  80/20 of training into training and validation. The augmented copies are
  split like any slice, so copies of a test slice can be trained on: the
  leak is the notebook's, kept on purpose, and scored both ways
  (baselines.py);
- online augmentation, the same random transform for image and mask;
- binary cross-entropy, Adam, early stopping on the validation loss with the
  best weights kept.

Deviations (stated in the model card): the networks' widths, which the
notebook does not state (8 filters in the U-Net's first level, 16 in the
two-branch network's), chosen so that a run fits the CPU budget below; a
wall-clock budget per run, after which the best weights so far are kept and
the state says so (a larger budget later continues the run).

A patient-wise run (held_out_fold) builds the same pool from the patients
outside that fold only; its held-out patients are scored, never seen.

A run folder holds checkpoint.keras (model and optimizer), best.weights.h5,
state.json (epochs, best validation loss, why it stopped), log.csv (the
validation curve) and, when finished, final.keras (the best weights).
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from ich_viewer.segmentation.model_file import Thresholds, manifest_path, write_manifest
from ich_viewer.segmentation.preprocessing import NetworkInput, equalise_and_stretch, network_view, resize_slices
from ich_viewer.study.model import Units
from ich_viewer.training.ct_ich import CTIchPatient

NOTEBOOK_SIZE = 160
POOL_SEED = 42  # the balanced pool and its split: one for every run and for scoring
TEST_FRACTION = 0.2
VALIDATION_FRACTION = 0.2
ROTATION_DEGREES = 5.0
ZOOM = 0.1
BASELINE_VERSION = "1.0"
# What the engine runs for these networks: one brain-window slice, the whole frame, the notebook's contrast step.
NOTEBOOK_INPUT = NetworkInput(size=NOTEBOOK_SIZE, context_slices=0, bone_window=None, head_span=None,
                              equalised=True)
# The notebook's reading of the output: a pixel at 0.5 or more is hemorrhage, and so is a slice with
# one; none of our rules (skull, smallest lesion, thresholds chosen on other folds).
NOTEBOOK_THRESHOLDS = Thresholds(mask=0.5, detection=0.5, min_lesion_px=1, inside_skull_only=False)


@dataclass(frozen=True)
class NotebookConfig:
    architecture: str  # reference_unet or two_branch_net (networks.py)
    base: int  # filters of the first level
    learning_rate: float
    batch_size: int = 16
    max_epochs: int = 200  # the notebook states none: early stopping or the budget ends a run
    # Epochs without a better validation loss before stopping. The notebook states none; with 5 the
    # U-Net stopped at epoch 89 on noise while its validation loss was still falling (0.0164 at epoch
    # 50, 0.0146 at 84), so both networks get 10.
    patience: int = 10
    budget_minutes: float = 25.0
    seed: int = 7


# At Adam 1e-5 the U-Net is starved of updates, not of compute: with batches of 16 it sat at the
# "background everywhere" plateau for 30 epochs (validation loss 0.020, IoU 0). On this CPU a step
# costs in proportion to its batch, so batches of 4 give four times the updates for the same minutes.
NOTEBOOK_UNET = NotebookConfig("reference_unet", base=8, learning_rate=1e-5, batch_size=4)
NOTEBOOK_TWO_BRANCH = NotebookConfig("two_branch_net", base=16, learning_rate=1e-3)  # Adam's default


@dataclass(frozen=True)
class NotebookRun:
    name: str
    config: NotebookConfig
    held_out_fold: int | None = None  # None: the notebook's random split of slices

    @property
    def ships(self) -> bool:
        """The notebook-split networks ship (as the notebook deployed its network), by architecture name."""
        return self.held_out_fold is None


def notebook_runs() -> list[NotebookRun]:
    runs = []
    for config in (NOTEBOOK_UNET, NOTEBOOK_TWO_BRANCH):
        runs.append(NotebookRun(f"notebook_{config.architecture}", config))
        runs += [NotebookRun(f"fold{k}_{config.architecture}", config, k) for k in (0, 1)]
    return runs


# ---- data --------------------------------------------------------------------------------------

@dataclass
class SlicePool:
    """Slices at 160 x 160 as the notebook prepared them, with where each came from."""

    images: np.ndarray  # (n, 160, 160) float32 in [0, 1], equalised and stretched
    masks: np.ndarray  # (n, 160, 160) bool
    patients: np.ndarray  # (n,) CT-ICH patient number
    source: np.ndarray  # (n,) index of the original slice (itself, or the one an augmented copy was made from)
    augmented: np.ndarray  # (n,) bool: an augmented copy

    def subset(self, indices) -> SlicePool:
        indices = np.asarray(indices, dtype=np.int64)
        return SlicePool(self.images[indices], self.masks[indices], self.patients[indices], self.source[indices],
                         self.augmented[indices])

    def __len__(self) -> int:
        return len(self.images)


def notebook_view(slices: np.ndarray) -> np.ndarray:
    """8-bit brain-window slices (z, y, x) as the notebook's networks read them."""
    return equalise_and_stretch(network_view(slices, Units.DISPLAY, NOTEBOOK_SIZE))


def prepare_patient(patient: CTIchPatient) -> SlicePool:
    images = notebook_view(patient.load_slices())
    masks = resize_slices(patient.load_masks().astype(np.float32), NOTEBOOK_SIZE) >= 0.5
    n = len(images)
    return SlicePool(images, masks, np.full(n, patient.patient), np.arange(n), np.zeros(n, bool))


def originals(patients: list[CTIchPatient]) -> SlicePool:
    """Every slice of these patients, in order (source: its index in this pool)."""
    pools = [prepare_patient(p) for p in patients]
    pool = SlicePool(*(np.concatenate([getattr(p, f) for p in pools])
                       for f in ("images", "masks", "patients", "source", "augmented")))
    pool.source = np.arange(len(pool))
    return pool


def random_transform(rng: np.random.Generator, size: int = NOTEBOOK_SIZE) -> tuple[np.ndarray, bool]:
    """A Keras-style random transform: rotation within 5 degrees, zoom 0.9-1.1 per axis, and a coin for
    the horizontal flip. Returns the 2 x 3 affine matrix and the flip."""
    angle = np.deg2rad(rng.uniform(-ROTATION_DEGREES, ROTATION_DEGREES))
    zoom_x, zoom_y = rng.uniform(1 - ZOOM, 1 + ZOOM, 2)
    linear = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) @ np.diag(
        [zoom_x, zoom_y])
    centre = np.array([size / 2 - 0.5, size / 2 - 0.5])
    matrix = np.hstack([linear, (centre - linear @ centre)[:, None]])
    return matrix, bool(rng.random() < 0.5)


def transformed(image: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One random transform applied to a slice and its mask alike (edges repeated, as Keras fills them)."""
    matrix, flip = random_transform(rng, image.shape[0])
    size = (image.shape[1], image.shape[0])
    image = cv2.warpAffine(image, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    mask = cv2.warpAffine(mask.astype(np.float32), matrix, size, flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE) >= 0.5
    if flip:
        image, mask = image[:, ::-1], mask[:, ::-1]
    return np.ascontiguousarray(image), np.ascontiguousarray(mask)


def balanced(pool: SlicePool, seed: int = POOL_SEED) -> SlicePool:
    """The pool with augmented copies of hemorrhage slices added until they equal the normal slices."""
    rng = np.random.default_rng(seed)
    positive = np.flatnonzero(pool.masks.any(axis=(1, 2)))
    extra = max(0, (len(pool) - len(positive)) - len(positive))
    sources = rng.choice(positive, extra, replace=True) if extra and len(positive) else np.zeros(0, np.int64)
    copies = [transformed(pool.images[k], pool.masks[k], rng) for k in sources]
    if not copies:
        return pool
    return SlicePool(np.concatenate([pool.images, np.stack([c[0] for c in copies])]),
                     np.concatenate([pool.masks, np.stack([c[1] for c in copies])]),
                     np.concatenate([pool.patients, pool.patients[sources]]),
                     np.concatenate([pool.source, pool.source[sources]]),
                     np.concatenate([pool.augmented, np.ones(len(sources), bool)]))


def random_split(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (kept, split off): a random `fraction` of range(n) split off."""
    order = np.random.default_rng(seed).permutation(n)
    n_off = round(fraction * n)
    return np.sort(order[n_off:]), np.sort(order[:n_off])


def original_split(has_hemorrhage: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which original slices the notebook's split trains on and tests on (indices into the originals).

    The split depends only on the pool's size (the copies are appended after the
    originals), so a network trained another way can be trained and tested on the
    same original slices.
    """
    n, n_positive = len(has_hemorrhage), int(np.count_nonzero(has_hemorrhage))
    n_pool = n + max(0, (n - n_positive) - n_positive)
    kept, test = random_split(n_pool, TEST_FRACTION, POOL_SEED)
    return kept[kept < n], test[test < n]


@dataclass
class NotebookData:
    train: SlicePool
    validation: SlicePool
    test: SlicePool | None  # the notebook's split only; a fold's test is its held-out patients


def notebook_data(pool: SlicePool, held_out: set[int] | None = None) -> NotebookData:
    """Balance, then split: 80/20 train/test (notebook split), then 80/20 train/validation.

    held_out: patients of a cross-validation fold, left out before balancing; no test split then.
    """
    if held_out is not None:
        pool = pool.subset(np.flatnonzero(~np.isin(pool.patients, sorted(held_out))))
    pool = balanced(pool)
    test = None
    if held_out is None:
        kept, test_indices = random_split(len(pool), TEST_FRACTION, POOL_SEED)
        test = pool.subset(test_indices)
        pool = pool.subset(kept)
    train, validation = random_split(len(pool), VALIDATION_FRACTION, POOL_SEED + 1)
    return NotebookData(pool.subset(train), pool.subset(validation), test)


# ---- training ----------------------------------------------------------------------------------

def build(config: NotebookConfig):
    from ich_viewer.segmentation.networks import ARCHITECTURES

    return ARCHITECTURES[config.architecture](size=NOTEBOOK_SIZE, channels=1, base=config.base)


def _compiled(config: NotebookConfig):
    import keras

    keras.utils.set_random_seed(config.seed)
    model = build(config)
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate), loss="binary_crossentropy")
    return model


def augmented_batch(pool: SlicePool, indices, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    pairs = [transformed(pool.images[k], pool.masks[k], rng) for k in indices]
    x = np.stack([p[0] for p in pairs])[..., None]
    y = np.stack([p[1] for p in pairs])[..., None].astype(np.float32)
    return x, y


def train_notebook_run(config: NotebookConfig, data: NotebookData, run_dir: Path, log=print) -> Path:
    """Train (or resume) to early stopping or the budget; returns final.keras (the best weights).

    A run stopped by its budget goes on when given a larger one (config.budget_minutes).
    """
    import keras

    run_dir.mkdir(parents=True, exist_ok=True)
    final, checkpoint, state_path = run_dir / "final.keras", run_dir / "checkpoint.keras", run_dir / "state.json"
    state = {"epochs_done": 0, "best_val_loss": None, "best_epoch": 0, "wait": 0, "seconds": 0.0,
             "stopped": None, "train_slices": len(data.train), "validation_slices": len(data.validation)}
    if checkpoint.exists() and state_path.exists():
        state = json.loads(state_path.read_text())
        if final.exists() and state["stopped"] and _stop_reason(config, state) is None:
            state["stopped"] = None  # a larger budget or patience: go on
        if state["stopped"] is not None and final.exists():
            log(f"{run_dir.name}: already finished")
            return final
        if state["stopped"] is None:
            model = keras.models.load_model(checkpoint)
            log(f"{run_dir.name}: resuming after epoch {state['epochs_done']}")
    else:
        model = _compiled(config)
    (run_dir / "config.json").write_text(json.dumps(asdict(config), indent=1))
    val_x, val_y = data.validation.images[..., None], data.validation.masks[..., None].astype(np.float32)
    while state["stopped"] is None:
        epoch = state["epochs_done"]
        rng = np.random.default_rng(config.seed * 1000 + epoch)  # a resumed run sees the same batches
        order = rng.permutation(len(data.train))
        started = time.perf_counter()
        losses = [float(model.train_on_batch(*augmented_batch(data.train, order[s:s + config.batch_size], rng)))
                  for s in range(0, len(order), config.batch_size)]
        val_loss, val_iou = _validation(model, val_x, val_y)
        seconds = time.perf_counter() - started
        state["epochs_done"] = epoch + 1
        state["seconds"] += seconds
        if state["best_val_loss"] is None or val_loss < state["best_val_loss"]:
            state.update(best_val_loss=val_loss, best_epoch=epoch + 1, wait=0)
            model.save_weights(run_dir / "best.weights.h5")
        else:
            state["wait"] += 1
        state["stopped"] = _stop_reason(config, state)
        log(f"{run_dir.name}: epoch {epoch + 1} loss {np.mean(losses):.4f} val {val_loss:.4f} "
            f"IoU {val_iou:.3f} ({seconds:.0f} s)"
            + (f"; stopped: {state['stopped']}" if state["stopped"] else ""))
        model.save(checkpoint)
        with open(run_dir / "log.csv", "a") as f:
            f.write(f"{epoch + 1},{np.mean(losses):.5f},{val_loss:.5f},{seconds:.1f},{val_iou:.4f}\n")
        state_path.write_text(json.dumps(state, indent=1))
    bare = build(config)
    bare.load_weights(run_dir / "best.weights.h5")
    tmp = run_dir / "final.tmp.keras"
    bare.save(tmp)
    tmp.replace(final)
    return final


def _validation(model, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Validation loss (binary cross-entropy, as Keras computes it) and hemorrhage IoU at 0.5: the IoU
    curve shows whether a run stopped by its budget was still learning to outline."""
    import keras

    prob = model.predict(x, batch_size=32, verbose=0)
    loss = float(np.mean(keras.ops.convert_to_numpy(keras.losses.binary_crossentropy(y, prob))))
    predicted, truth = prob >= 0.5, y >= 0.5
    union = np.count_nonzero(predicted | truth)
    return loss, (np.count_nonzero(predicted & truth) / union if union else 1.0)


def continue_from_shipped(config: NotebookConfig, run_dir: Path, weights: Path, summary: dict) -> None:
    """Rebuild a run folder whose checkpoints are gone from the network that shipped and the training
    summary stored with the baselines (run_summary), so that a larger budget goes on from it.

    It goes on from the best epoch's weights (what shipped) with Adam's moments started afresh; the
    state records that, and the model card says so.
    """
    import keras

    run_dir.mkdir(parents=True, exist_ok=True)
    model = keras.models.load_model(weights, compile=False)
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate), loss="binary_crossentropy")
    model.save(run_dir / "checkpoint.keras")
    model.save_weights(run_dir / "best.weights.h5")
    shutil.copyfile(weights, run_dir / "final.keras")
    curve, epochs = summary["validation_loss"], summary["epochs"]
    seconds = 60 * summary["minutes"]
    with open(run_dir / "log.csv", "w") as f:  # the training loss of those epochs was not kept
        f.writelines(f"{k + 1},nan,{loss},{seconds / epochs:.1f}\n" for k, loss in enumerate(curve))
    state = {"epochs_done": epochs, "best_val_loss": min(curve), "best_epoch": summary["best_epoch"],
             "wait": epochs - summary["best_epoch"], "seconds": seconds, "stopped": summary["stopped"],
             "train_slices": summary["train_slices"], "validation_slices": summary["validation_slices"],
             "continued_from_shipped_after_epoch": epochs}
    (run_dir / "state.json").write_text(json.dumps(state, indent=1))


def _stop_reason(config: NotebookConfig, state: dict) -> str | None:
    if state["wait"] >= config.patience:
        return f"early stopping (no better validation loss for {config.patience} epochs)"
    if state["seconds"] >= 60 * config.budget_minutes:
        return f"CPU budget of {config.budget_minutes:g} minutes reached"
    if state["epochs_done"] >= config.max_epochs:
        return f"{config.max_epochs} epochs"
    return None


def train_notebook_runs(patients: list[CTIchPatient], folds: dict[int, int], runs_dir: Path,
                        only: list[str], log=print, budget_minutes: float | None = None) -> list[NotebookRun]:
    """Train (or resume) the notebook-recipe runs named in only (all if empty); returns them.

    budget_minutes: instead of the recipe's budget (a run stopped by its budget goes on to the new one).
    """
    runs = [r for r in notebook_runs() if not only or r.name in only]
    if budget_minutes is not None:
        runs = [replace(r, config=replace(r.config, budget_minutes=budget_minutes)) for r in runs]
    if not runs:
        return []
    log(f"notebook recipe: preparing {len(patients)} patients at {NOTEBOOK_SIZE} x {NOTEBOOK_SIZE} ...")
    pool = originals(patients)
    for run in runs:
        held_out = None if run.held_out_fold is None else {p for p, f in folds.items() if f == run.held_out_fold}
        data = notebook_data(pool, held_out)
        log(f"{run.name}: {len(data.train)} training and {len(data.validation)} validation slices")
        train_notebook_run(run.config, data, runs_dir / run.name, log)
    return runs


def run_summary(run_dir: Path) -> dict:
    """How a finished run was trained: its recipe, budget, why it stopped, and its validation curve."""
    config = json.loads((run_dir / "config.json").read_text())
    state = json.loads((run_dir / "state.json").read_text())
    curve = [line.split(",") for line in (run_dir / "log.csv").read_text().split()]
    return {**config, "epochs": state["epochs_done"], "best_epoch": state["best_epoch"],
            "stopped": state["stopped"], "minutes": state["seconds"] / 60,
            "train_slices": state["train_slices"], "validation_slices": state["validation_slices"],
            "validation_loss": [float(row[2]) for row in curve],
            "validation_iou": [float(row[4]) if len(row) > 4 else None for row in curve],
            "continued_after_epoch": state.get("continued_from_shipped_after_epoch")}


def training_description(run: NotebookRun, run_dir: Path) -> str:
    s = run_summary(run_dir)
    patients = ("all 82 patients, the notebook's random 80/20 split of slices" if run.held_out_fold is None
                else f"the patients outside cross-validation fold {run.held_out_fold}")
    return (f"CT-ICH JPG release (Hssayeni et al., PhysioNet, doi:10.13026/w8q8-ky94, CC BY 4.0), brain window, "
            f"{patients}; the reference notebook's recipe (ich_viewer/training/notebook_recipe.py): "
            f"{s['train_slices']} training and {s['validation_slices']} validation slices of the balanced pool, "
            f"{s['base']} filters in the first level, Adam {s['learning_rate']:g}, batch {s['batch_size']}, "
            f"binary cross-entropy; {s['stopped']} after {s['epochs']} epochs ({s['minutes']:.0f} min on 1 CPU "
            f"thread), best validation loss at epoch {s['best_epoch']}"
            + (f"; continued in a later session after epoch {s['continued_after_epoch']} from the best weights, "
               f"with Adam's moments started afresh" if s.get("continued_after_epoch") else "") + ".")


def write_run_manifest(run: NotebookRun, run_dir: Path, weights: Path | None = None) -> Path:
    """A manifest beside a finished run's weights (final.keras, or the copy that ships), so the engine
    runs it as it runs any shipped model."""
    weights = weights or run_dir / "final.keras"
    write_manifest(weights, run.config.architecture, BASELINE_VERSION, training_description(run, run_dir),
                   NOTEBOOK_INPUT, NOTEBOOK_THRESHOLDS)
    return manifest_path(weights)
