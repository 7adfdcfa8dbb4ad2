"""Write synthetic image studies: JPG/PNG folders and the CT-ICH layout.

    from tests.study.image_factory import write_ct_ich_patient
    patient = write_ct_ich_patient(tmp_path / "Patients_CT", "007", n_slices=5, mask_slices=[3])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np


def write_image(path: Path, image: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), image):
        raise RuntimeError(f"could not write {path}")
    return path


def slice_image(number: int, size: tuple[int, int] = (48, 48)) -> np.ndarray:
    """An 8-bit 'slice' whose centre value encodes its number (checks the order)."""
    image = np.full(size, 10, np.uint8)
    rows, cols = size
    image[rows // 4: 3 * rows // 4, cols // 4: 3 * cols // 4] = 20 + 5 * number
    return image


def hemorrhage_mask(size: tuple[int, int] = (48, 48), background: int = 0) -> np.ndarray:
    """255 on a square; `background` mimics JPEG noise that must not count as hemorrhage."""
    mask = np.full(size, background, np.uint8)
    mask[10:20, 12:24] = 255
    return mask


@dataclass
class CtIchPatient:
    folder: Path  # Patients_CT/NNN
    brain: Path  # Patients_CT/NNN/brain
    slice_numbers: list[int]
    mask_slices: list[int]


def write_ct_ich_patient(
    patients_ct: Path,
    number: str,
    n_slices: int = 5,
    mask_slices: Sequence[int] = (),
    missing: Sequence[int] = (),
    size: tuple[int, int] = (48, 48),
    mask_suffix: str = ".png",
) -> CtIchPatient:
    """Patients_CT/NNN/brain/S.jpg (+ S_HGE_Seg masks) and a bone folder, like CT-ICH.

    Masks default to PNG with a background of 60 so a loader thresholding at > 0
    (instead of >= 128) fails; CT-ICH's own masks are JPG.
    """
    folder = patients_ct / number
    numbers = [s for s in range(1, n_slices + 1) if s not in set(missing)]
    for s in numbers:
        write_image(folder / "brain" / f"{s}.jpg", slice_image(s, size))
        write_image(folder / "bone" / f"{s}.jpg", slice_image(s, size))
    for s in mask_slices:
        write_image(folder / "brain" / f"{s}_HGE_Seg{mask_suffix}", hemorrhage_mask(size, 60))
    return CtIchPatient(folder, folder / "brain", numbers, list(mask_slices))
