"""Reading the CT-ICH JPG release for training and evaluation.

One CTIchPatient per patient: its brain-window slices in slice order (as
8-bit display values), the radiologists' masks (JPEG, so thresholded at
128), and the per-slice labels of hemorrhage_diagnosis.csv. Slices listed in
the CSV whose file is missing are skipped (the data README lists them).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

SUBTYPES = ("Intraventricular", "Intraparenchymal", "Subarachnoid", "Epidural", "Subdural")
MASK_THRESHOLD = 128  # JPEG masks: values in between are compression noise


@dataclass
class SliceLabel:
    slice_number: int
    subtypes: tuple[str, ...]  # hemorrhage types on this slice (empty: none)
    fracture: bool


@dataclass
class CTIchPatient:
    patient: int
    slice_numbers: list[int]  # of the slices present on disk, ascending
    labels: list[SliceLabel]  # same order
    folder: Path
    missing: list[int] = field(default_factory=list)

    @property
    def has_hemorrhage(self) -> bool:
        return any(label.subtypes for label in self.labels)

    def slice_path(self, number: int) -> Path:
        return self.folder / f"{number}.jpg"

    def mask_path(self, number: int) -> Path:
        return self.folder / f"{number}_HGE_Seg.jpg"

    def bone_path(self, number: int) -> Path:
        return self.folder.parent / "bone" / f"{number}.jpg"

    def load_slices(self) -> np.ndarray:
        """(z, 650, 650) uint8 brain-window slices."""
        return np.stack([_read_gray(self.slice_path(n)) for n in self.slice_numbers])

    def load_bone_slices(self) -> np.ndarray:
        """(z, 650, 650) uint8 bone-window slices (L700/W3200); zeros where the file is missing."""
        brain = _read_gray(self.slice_path(self.slice_numbers[0]))
        bone = np.zeros((len(self.slice_numbers), *brain.shape), np.uint8)
        for i, n in enumerate(self.slice_numbers):
            path = self.bone_path(n)
            if path.exists():
                image = _read_gray(path)
                if image.shape == brain.shape:
                    bone[i] = image
        return bone

    def load_masks(self) -> np.ndarray:
        """(z, h, w) bool radiologist masks; all False on slices without a mask file."""
        shape = _read_gray(self.slice_path(self.slice_numbers[0])).shape
        masks = np.zeros((len(self.slice_numbers), *shape), dtype=bool)
        for i, n in enumerate(self.slice_numbers):
            path = self.mask_path(n)
            if path.exists():
                masks[i] = _read_gray(path) >= MASK_THRESHOLD
        return masks


def _read_gray(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise OSError(f"{path}: not a readable image")
    return image


def read_patients(root: Path) -> list[CTIchPatient]:
    """All patients of a CT-ICH release folder (holding hemorrhage_diagnosis.csv)."""
    rows: dict[int, list[SliceLabel]] = {}
    with open(root / "hemorrhage_diagnosis.csv", newline="") as f:
        for row in csv.DictReader(f):
            label = SliceLabel(
                slice_number=int(row["SliceNumber"]),
                subtypes=tuple(s for s in SUBTYPES if row[s] == "1"),
                fracture=row["Fracture_Yes_No"] == "1",
            )
            rows.setdefault(int(row["PatientNumber"]), []).append(label)
    patients = []
    for number, labels in sorted(rows.items()):
        folder = root / "Patients_CT" / f"{number:03d}" / "brain"
        labels.sort(key=lambda label: label.slice_number)
        present = [label for label in labels if (folder / f"{label.slice_number}.jpg").exists()]
        missing = [label.slice_number for label in labels if label not in present]
        patients.append(
            CTIchPatient(number, [label.slice_number for label in present], present, folder, missing)
        )
    return patients
