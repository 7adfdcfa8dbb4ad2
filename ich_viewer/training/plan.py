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
- notebook_*: the reference notebook's protocol, a random 80/20 split of
  slices (leaky by design: slices of one patient on both sides), for both
  baselines and ours.
- fold0_reference_unet, fold0_two_branch_net: the baselines on patient-wise fold 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ich_viewer.training.folds import N_FOLDS
from ich_viewer.training.train import OURS, REFERENCE_UNET, REFINE, TUNE, TWO_BRANCH, TrainConfig

NETWORK_NAME = "ich_unet25d"
NETWORK_VERSION = "2.1"  # 2: bone-window channel, exporter augmentation, look-alike sampling; .1: tuned
NOTEBOOK_SPLIT_SEED = 42
NOTEBOOK_TEST_FRACTION = 0.2


@dataclass(frozen=True)
class Run:
    name: str
    config: TrainConfig
    held_out_fold: int | None = None  # patient-wise: train on the other folds
    notebook_split: bool = False  # slice-wise 80/20 split
    refines: str | None = None  # continue this run's finished network on its hard examples
    ships_as: str | None = None  # its name in models/ (ich_unet25d_<name>.keras), if it ships


def all_runs() -> list[Run]:
    names = [f"fold{k}" for k in range(N_FOLDS)] + ["final"]
    folds = list(range(N_FOLDS)) + [None]
    runs = [Run(name, OURS, fold) for name, fold in zip(names, folds)]
    runs += [Run(f"{name}_refined", REFINE, fold, refines=name) for name, fold in zip(names, folds)]
    runs += [Run(f"{name}_tuned", TUNE, fold, refines=f"{name}_refined", ships_as=name)
             for name, fold in zip(names, folds)]
    runs += [
        Run("notebook_two_branch_net", TWO_BRANCH, notebook_split=True),
        Run("fold0_two_branch_net", TWO_BRANCH, 0),
        Run("notebook_reference_unet", REFERENCE_UNET, notebook_split=True),
        Run("fold0_reference_unet", REFERENCE_UNET, 0),
        # Our full first-stage budget (no refinement): compare with the fold0 row.
        Run("notebook_ich_unet25d", OURS, notebook_split=True),
    ]
    return runs


def notebook_split(slice_counts: list[int]) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Random 80/20 split of (patient index, slice index) pairs, fixed seed."""
    pairs = [(i, z) for i, n in enumerate(slice_counts) for z in range(n)]
    order = np.random.default_rng(NOTEBOOK_SPLIT_SEED).permutation(len(pairs))
    n_test = int(round(NOTEBOOK_TEST_FRACTION * len(pairs)))
    test = sorted(pairs[k] for k in order[:n_test])
    train = sorted(pairs[k] for k in order[n_test:])
    return train, test
