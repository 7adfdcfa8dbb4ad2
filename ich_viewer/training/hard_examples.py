"""Hard examples: the training slices where a trained network is still wrong.

Cross-validation of the first networks showed two kinds of mistake: confident
false outlines along the inner table of the skull on patients without
hemorrhage, and bleeds missed altogether. A refinement run continues a
finished network with a third of every batch drawn from the slices where it
makes either mistake, the crop centred on the mistake, so the network sees
its own errors often. (Tried on fold 0 against false outlines alone: those
cost slice sensitivity, 0.71 against 0.75 with both kinds.)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ich_viewer.segmentation.model_file import Thresholds
from ich_viewer.segmentation.postprocessing import drop_small_lesions
from ich_viewer.training.dataset import PreparedPatient

# Disagreement this close to an outline is about where the border runs, not a mistake.
BOUNDARY_PX = 3
THRESHOLDS = Thresholds()


@dataclass
class HardExample:
    patient_index: int  # into the run's patient list
    slice_index: int
    mistakes: np.ndarray  # (S, S) bool: where the network was wrong


def _far_from(mask: np.ndarray) -> np.ndarray:
    kernel = np.ones((2 * BOUNDARY_PX + 1,) * 2, np.uint8)
    return cv2.dilate(mask.astype(np.uint8), kernel) == 0


def mistake_map(probability: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """False outlines (far from the reference) and missed bleed (far from any outline)."""
    predicted = drop_small_lesions(probability[None], THRESHOLDS.mask, THRESHOLDS.min_lesion_px)[0] >= THRESHOLDS.mask
    return (predicted & _far_from(reference)) | (reference & _far_from(predicted))


def find_hard_examples(model, config, patients: list[PreparedPatient]) -> list[HardExample]:
    """Every training slice where the network (trained with config) makes a mistake of a lesion's minimum
    size or more."""
    from ich_viewer.training.baselines import predict_slices

    found = []
    for i, patient in enumerate(patients):
        probability = predict_slices(model, config, patient, range(len(patient.images)))
        for z, prob in enumerate(probability):
            wrong = mistake_map(prob, patient.masks[z])
            if wrong.sum() >= THRESHOLDS.min_lesion_px:
                found.append(HardExample(i, z, wrong))
    return found


def save(examples: list[HardExample], path: Path) -> None:
    index = np.array([(e.patient_index, e.slice_index) for e in examples]).reshape(-1, 2)
    np.savez_compressed(path, index=index, mistakes=np.array([e.mistakes for e in examples]))


def load(path: Path) -> list[HardExample]:
    data = np.load(path)
    return [HardExample(int(i), int(z), m) for (i, z), m in zip(data["index"], data["mistakes"])]
