"""CT-ICH slices at network resolution, and the batches the networks train on.

All 82 patients fit in memory at 256 x 256 (about 0.7 GB as float32), so
they are prepared once (through the shared preprocessing) and cached under
the run folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ich_viewer.segmentation.preprocessing import NETWORK_SIZE, network_view, resize_slices, stack_neighbours
from ich_viewer.study.model import Units
from ich_viewer.training.ct_ich import CTIchPatient


@dataclass
class PreparedPatient:
    patient: int
    images: np.ndarray  # (z, S, S) float32 in [0, 1], the network's view of each slice
    masks: np.ndarray  # (z, S, S) bool, radiologist mask at network resolution

    @property
    def positive_slices(self) -> np.ndarray:
        return np.flatnonzero(self.masks.any(axis=(1, 2)))


def prepare_patient(patient: CTIchPatient, size: int = NETWORK_SIZE) -> PreparedPatient:
    images = network_view(patient.load_slices(), Units.DISPLAY, size)
    masks = resize_slices(patient.load_masks().astype(np.float32), size) >= 0.5
    return PreparedPatient(patient.patient, images, masks)


def prepare_all(patients: list[CTIchPatient], cache: Path | None = None) -> dict[int, PreparedPatient]:
    if cache is not None and cache.exists():
        data = np.load(cache)
        return {
            p.patient: PreparedPatient(p.patient, data[f"i{p.patient}"].astype(np.float32) / 255,
                                       data[f"m{p.patient}"])
            for p in patients
        }
    prepared = {p.patient: prepare_patient(p) for p in patients}
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        arrays = {}
        for p in prepared.values():
            arrays[f"i{p.patient}"] = np.round(p.images * 255).astype(np.uint8)
            arrays[f"m{p.patient}"] = p.masks
        np.savez(cache, **arrays)
    return prepared


class BatchSampler:
    """Random training batches: a third from hemorrhage slices, the rest from any slice.

    Hemorrhage covers about 1% of the pixels of 13% of the slices; sampling
    positives this often keeps every batch informative, while two thirds of
    ordinary slices teach the network what is not a bleed (bone, calcification).
    With hard examples given (a refinement run), the second third of each
    batch comes from them, cropped around the network's mistake.
    """

    def __init__(self, patients: list[PreparedPatient], batch_size: int, crop: int,
                 channels: int, augment: bool, seed: int, input_size: int = NETWORK_SIZE,
                 slices: list[tuple[int, int]] | None = None, hard_examples: list | None = None):
        self.patients = patients
        self.batch_size = batch_size
        self.crop = crop
        self.channels = channels
        self.augment = augment
        self.input_size = input_size
        self.rng = np.random.default_rng(seed)
        # (patient index, slice index) pairs to train on: all slices unless a slice split is given.
        self.all_slices = slices or [(i, z) for i, p in enumerate(patients) for z in range(len(p.images))]
        self.positive = [(i, z) for i, z in self.all_slices if patients[i].masks[z].any()]
        self.hard_examples = hard_examples or []

    def batch(self) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = [], []
        for k in range(self.batch_size):
            focus = None  # where the crop should look; None: at the hemorrhage, if any
            if k % 3 == 1 and self.hard_examples:
                hard = self.hard_examples[self.rng.integers(len(self.hard_examples))]
                i, z, focus = hard.patient_index, hard.slice_index, hard.mistakes
            else:
                pool = self.positive if (k % 3 == 0 and self.positive) else self.all_slices
                i, z = pool[self.rng.integers(len(pool))]
            x, y = self._sample(self.patients[i], z, focus)
            xs.append(x)
            ys.append(y)
        return np.stack(xs), np.stack(ys)[..., None].astype(np.float32)

    def _sample(self, patient: PreparedPatient, z: int,
                focus: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        if self.channels == 1:
            x = patient.images[z][..., None]
        else:
            x = stack_neighbours(patient.images, [z])[0]
        y = patient.masks[z].astype(np.float32)
        # The mask and the crop's focus travel together through resizing and augmentation.
        targets = np.dstack([y, y if focus is None else focus.astype(np.float32)])
        if self.input_size != x.shape[0]:
            x = cv2.resize(x, (self.input_size, self.input_size), interpolation=cv2.INTER_AREA)
            x = x.reshape(self.input_size, self.input_size, -1)
            targets = cv2.resize(targets, (self.input_size, self.input_size), interpolation=cv2.INTER_AREA)
        if self.augment:
            x, targets = self._augment(x, targets)
        x, targets = self._crop(x, targets)
        return x.astype(np.float32), (targets[..., 0] >= 0.5)

    def _augment(self, x, targets):
        rng = self.rng
        size = x.shape[0]
        if rng.random() < 0.5:
            x, targets = x[:, ::-1], targets[:, ::-1]
        angle = rng.uniform(-15, 15)
        scale = rng.uniform(0.9, 1.1)
        matrix = cv2.getRotationMatrix2D((size / 2, size / 2), angle, scale)
        matrix[:, 2] += rng.uniform(-0.05, 0.05, 2) * size
        x = cv2.warpAffine(np.ascontiguousarray(x), matrix, (size, size), flags=cv2.INTER_LINEAR)
        targets = cv2.warpAffine(np.ascontiguousarray(targets), matrix, (size, size), flags=cv2.INTER_LINEAR)
        x = x.reshape(size, size, -1)
        # Scanner and reconstruction differences: mild contrast, brightness and noise changes.
        x = x * rng.uniform(0.9, 1.1) + rng.uniform(-0.05, 0.05)
        x = x + rng.normal(0, 0.01, x.shape)
        return np.clip(x, 0, 1), targets

    def _crop(self, x, targets):
        """targets: (S, S, 2), the mask and the crop's focus (the mask itself, or a mistake)."""
        size = x.shape[0]
        if self.crop >= size:
            return x, targets
        focus = targets[..., 1]
        if focus.max() >= 0.5 and self.rng.random() < 0.8:
            # Centre the crop near a focus pixel so small bleeds (or mistakes) stay in view.
            rows, cols = np.nonzero(focus >= 0.5)
            k = self.rng.integers(len(rows))
            top = int(np.clip(rows[k] - self.rng.integers(self.crop), 0, size - self.crop))
            left = int(np.clip(cols[k] - self.rng.integers(self.crop), 0, size - self.crop))
        else:
            top, left = self.rng.integers(0, size - self.crop + 1, 2)
        window = np.s_[top:top + self.crop, left:left + self.crop]
        return x[window], targets[window]
