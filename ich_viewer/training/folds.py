"""Patient-wise cross-validation folds, fixed once and stored in the repo.

Stratified by whether the patient has hemorrhage, so every fold holds
positive and negative patients; no patient is ever in two folds.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from ich_viewer.paths import models_dir

N_FOLDS = 5
FOLDS_SEED = 20200114  # fixed: the folds never change once published


def folds_path() -> Path:
    return models_dir() / "cv_folds.json"


def make_folds(patients_with_hemorrhage: dict[int, bool], n_folds: int = N_FOLDS,
               seed: int = FOLDS_SEED) -> dict[int, int]:
    rng = random.Random(seed)
    folds: dict[int, int] = {}
    for positive in (True, False):
        group = sorted(p for p, has in patients_with_hemorrhage.items() if has == positive)
        rng.shuffle(group)
        offset = len(folds)  # keeps fold sizes balanced across the two strata
        for i, patient in enumerate(group):
            folds[patient] = (i + offset) % n_folds
    return dict(sorted(folds.items()))


def load_folds(path: Path | None = None) -> dict[int, int]:
    path = path or folds_path()
    return {int(p): int(f) for p, f in json.loads(path.read_text()).items()}
