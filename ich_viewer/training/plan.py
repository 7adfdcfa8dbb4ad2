"""The training runs behind the shipped models and the model card, in priority order.

- fold0..fold4: our network, trained without the patients of that fold
  (they score the cross-validation).
- final: our network on all 82 patients.
- fold0_refined..fold4_refined, final_refined: each of those continued for
  half its budget again, at a lower learning rate, with a third of every
  batch drawn from its own hard examples (training slices where it still
  outlines a bleed that is not there, or misses one).
- fold0_tuned..fold4_tuned, final_tuned: each refined network continued once
  more, on its own remaining hard examples. These are what ships.
- notebook_ich_unet25d: ours, trained on the original slices that the
  reference notebook's random 80/20 split trains on (notebook_recipe.py),
  so that it is tested on the same slices as the notebook's two networks
  (whose runs are listed in notebook_recipe.notebook_runs).
- notebook_pool_ich_unet25d: ours, trained on the notebook split's training
  slices and on the test slices whose augmented copies the notebook's networks
  train on (the notebook's leak, given to ours too: like for like);
  notebook_pool_long_ich_unet25d, notebook_pool_150_ich_unet25d: the same for 60 and 150 epochs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ich_viewer.training.folds import N_FOLDS
from ich_viewer.training.notebook_recipe import notebook_data, original_split, originals
from ich_viewer.training.train import OURS, REFINE, TUNE, TrainConfig

NETWORK_NAME = "ich_unet25d"
NETWORK_VERSION = "2.1"  # 2: bone-window channel, exporter augmentation, look-alike sampling; .1: tuned


@dataclass(frozen=True)
class Run:
    name: str
    config: TrainConfig
    held_out_fold: int | None = None  # patient-wise: train on the other folds
    notebook_split: bool = False  # slice-wise 80/20 split
    notebook_pool: bool = False  # with it: also the test slices the notebook's pool trains on
    refines: str | None = None  # continue this run's finished network on its hard examples
    ships_as: str | None = None  # its name in models/ (ich_unet25d_<name>.keras), if it ships


def all_runs() -> list[Run]:
    names = [f"fold{k}" for k in range(N_FOLDS)] + ["final"]
    folds = [*range(N_FOLDS), None]
    runs = [Run(name, OURS, fold) for name, fold in zip(names, folds)]
    runs += [Run(f"{name}_refined", REFINE, fold, refines=name) for name, fold in zip(names, folds)]
    runs += [Run(f"{name}_tuned", TUNE, fold, refines=f"{name}_refined", ships_as=name)
             for name, fold in zip(names, folds)]
    # Our full first-stage budget (no refinement): compare with the fold0 row.
    runs.append(Run("notebook_ich_unet25d", OURS, notebook_split=True))
    runs.append(Run("notebook_pool_ich_unet25d", OURS, notebook_split=True, notebook_pool=True))
    # The same for 2.5 and 6 times the epochs: nearer the samples the notebook's networks saw in their hours.
    runs.append(Run("notebook_pool_long_ich_unet25d", replace(OURS, epochs=60), notebook_split=True,
                    notebook_pool=True))
    runs.append(Run("notebook_pool_150_ich_unet25d", replace(OURS, epochs=150), notebook_split=True,
                    notebook_pool=True))
    return runs


def _slice_pairs(prepared) -> list[tuple[int, int]]:
    return [(i, z) for i, p in enumerate(prepared) for z in range(len(p.images))]


def notebook_split(prepared) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The reference notebook's 80/20 split of original slices, as (patient index, slice index) pairs."""
    pairs = _slice_pairs(prepared)
    has_hemorrhage = np.concatenate([p.masks.any(axis=(1, 2)) for p in prepared])
    train, test = original_split(has_hemorrhage)
    return [pairs[k] for k in train], [pairs[k] for k in test]


def notebook_pool_slices(patients, prepared) -> list[tuple[int, int]]:
    """The notebook split's training slices, plus the test slices whose augmented copies the
    notebook's networks train on (patients: those `prepared` was made from, in the same order)."""
    pairs = _slice_pairs(prepared)
    train, _ = notebook_split(prepared)
    leaked = [pairs[k] for k in np.unique(notebook_data(originals(patients)).train.source)]
    return sorted(set(train) | set(leaked))
