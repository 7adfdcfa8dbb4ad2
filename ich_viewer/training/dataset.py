"""CT-ICH slices at network resolution, and the batches the networks train on.

All 82 patients fit in memory at 256 x 256 (about 0.5 GB as 8-bit brain and
bone windows), so they are prepared once (through the shared preprocessing)
and cached under the run folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ich_viewer.segmentation.preprocessing import (
    BRAIN_CHANNELS,
    NETWORK_SIZE,
    bone_view,
    network_batch,
    network_view,
    resize_slices,
)
from ich_viewer.study.model import Units
from ich_viewer.training.augment import augment
from ich_viewer.training.ct_ich import CTIchPatient

CACHE_VERSION = 2  # brain and bone windows
# Slices in the lowest part of a head scan show the skull base, face and neck: no brain
# or little of it, dense bone and soft tissue, where the first networks drew false outlines.
LOW_SLICE_FRACTION = 0.3
BONE_LEVEL = 0.98  # brain-window value of bone (saturated white): the inner table, the skull base


@dataclass
class PreparedPatient:
    patient: int
    images: np.ndarray  # (z, S, S) float32 in [0, 1], the network's brain-window view of each slice
    masks: np.ndarray  # (z, S, S) bool, radiologist mask at network resolution
    bone: np.ndarray | None = None  # (z, S, S) float32 in [0, 1], bone window; zeros where missing

    def __post_init__(self) -> None:
        if self.bone is None:
            self.bone = np.zeros_like(self.images)


def prepare_patient(patient: CTIchPatient, size: int = NETWORK_SIZE) -> PreparedPatient:
    images = network_view(patient.load_slices(), Units.DISPLAY, size)
    bone_images = patient.load_bone_slices()
    bone = bone_view(bone_images, Units.DISPLAY, bone_images, size)
    masks = resize_slices(patient.load_masks().astype(np.float32), size) >= 0.5
    return PreparedPatient(patient.patient, images, masks, bone)


def prepare_all(patients: list[CTIchPatient], cache: Path | None = None) -> dict[int, PreparedPatient]:
    if cache is not None:
        cache = cache.with_name(f"{cache.stem}_v{CACHE_VERSION}{cache.suffix}")
    if cache is not None and cache.exists():
        data = np.load(cache)
        return {
            p.patient: PreparedPatient(p.patient, data[f"i{p.patient}"].astype(np.float32) / 255,
                                       data[f"m{p.patient}"], data[f"b{p.patient}"].astype(np.float32) / 255)
            for p in patients
        }
    prepared = {p.patient: prepare_patient(p) for p in patients}
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        arrays = {}
        for p in prepared.values():
            arrays[f"i{p.patient}"] = np.round(p.images * 255).astype(np.uint8)
            arrays[f"b{p.patient}"] = np.round(p.bone * 255).astype(np.uint8)
            arrays[f"m{p.patient}"] = p.masks
        np.savez(cache, **arrays)
    return prepared


class BatchSampler:
    """Random training batches: 3 of 8 from hemorrhage slices, 2 from places that look like one, 3 from any slice.

    Hemorrhage covers about 1% of the pixels of 13% of the slices; sampling
    positives this often keeps every batch informative. The first networks
    drew their false outlines in three places: slices below the brain, the
    inner table of the skull and the skull base. Two samples of every batch
    are therefore slices without hemorrhage from the lowest part of a scan or
    crops centred on bone. With hard examples given (a refinement run), those
    two come from the network's own mistakes half of the time instead.
    """

    POSITIVE_SLOTS = (0, 3, 6)
    LOOKALIKE_SLOTS = (1, 4)

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
        self.negative = [(i, z) for i, z in self.all_slices if not patients[i].masks[z].any()]
        self.low_negative = [(i, z) for i, z in self.negative
                             if z < LOW_SLICE_FRACTION * len(patients[i].images)]
        self.hard_examples = hard_examples or []

    def batch(self) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = [], []
        for k in range(self.batch_size):
            i, z, focus = self._pick(k)
            x, y = self._sample(self.patients[i], z, focus)
            xs.append(x)
            ys.append(y)
        return np.stack(xs), np.stack(ys)[..., None].astype(np.float32)

    def _pick(self, slot: int) -> tuple[int, int, np.ndarray | None]:
        """A slice for this batch slot, and where its crop should look (None: at the hemorrhage)."""
        rng = self.rng
        if slot in self.POSITIVE_SLOTS and self.positive:
            i, z = self.positive[rng.integers(len(self.positive))]
            return i, z, None
        if slot in self.LOOKALIKE_SLOTS and self.channels > 1:
            if self.hard_examples and rng.random() < 0.5:
                hard = self.hard_examples[rng.integers(len(self.hard_examples))]
                return hard.patient_index, hard.slice_index, hard.mistakes
            pool = self.low_negative if (self.low_negative and rng.random() < 0.5) else self.negative
            if pool:
                i, z = pool[rng.integers(len(pool))]
                return i, z, self.patients[i].images[z] >= BONE_LEVEL
        i, z = self.all_slices[rng.integers(len(self.all_slices))]
        return i, z, None

    def _sample(self, patient: PreparedPatient, z: int,
                focus: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        if self.channels == 1:
            x = patient.images[z][..., None]
        else:
            x = network_batch(patient.images, patient.bone, [z])[0]
        y = patient.masks[z].astype(np.float32)
        # The mask and the crop's focus travel together through resizing and augmentation.
        targets = np.dstack([y, y if focus is None else focus.astype(np.float32)])
        if self.input_size != x.shape[0]:
            x = cv2.resize(x, (self.input_size, self.input_size), interpolation=cv2.INTER_AREA)
            x = x.reshape(self.input_size, self.input_size, -1)
            targets = cv2.resize(targets, (self.input_size, self.input_size), interpolation=cv2.INTER_AREA)
        if self.augment:
            x, targets = augment(x.copy(), targets, self.rng, has_bone=self.channels > BRAIN_CHANNELS)
        x, targets = self._crop(x, targets)
        return x.astype(np.float32), (targets[..., 0] >= 0.5)

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
