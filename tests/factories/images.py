"""Write synthetic image studies: JPG/PNG folders and the CT-ICH layout.

    from tests.factories.images import write_ct_ich_patient
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


def typical_head_hu(n_slices: int = 6, size: int = 256, seed: int = 0) -> np.ndarray:
    """A head in HU (z, y, x): air, a skull ring, and a brain whose pixels follow the
    estimator's reference intracranial HU distribution (a typical CT-ICH brain)."""
    from ich_viewer.study.export_window import INTRACRANIAL_HU_CDF, REFERENCE_HU

    rng = np.random.default_rng(seed)
    y, x = np.ogrid[:size, :size]
    r = np.hypot((y - size / 2) / (0.42 * size), (x - size / 2) / (0.36 * size))
    head = np.where(r < 1.0, 1200.0, -1000.0)
    hu = np.broadcast_to(head, (n_slices, size, size)).copy()
    brain = np.broadcast_to(r < 0.9, hu.shape)
    # Inverse-CDF sampling within the reference's range (its tails beyond are a few per mille).
    fractions = rng.uniform(INTRACRANIAL_HU_CDF[0], INTRACRANIAL_HU_CDF[-1], int(brain.sum()))
    hu[brain] = np.interp(fractions, INTRACRANIAL_HU_CDF, REFERENCE_HU)
    return np.rint(hu)


def render_export(hu: np.ndarray, window, jpeg_quality: int | None = None) -> np.ndarray:
    """HU slices as an exporter writes them: through `window` to 8 bits, perhaps JPEG-compressed.

    Returns uint8 of the same shape.
    """
    grey = np.round(np.clip((hu - window.low) / window.width * 255, 0, 255)).astype(np.uint8)
    if jpeg_quality is None:
        return grey
    decoded = []
    for image in grey.reshape(-1, *grey.shape[-2:]):
        _ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
        decoded.append(cv2.imdecode(data, cv2.IMREAD_GRAYSCALE))
    return np.stack(decoded).reshape(grey.shape)
