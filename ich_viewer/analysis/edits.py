"""What the reader changed in the model's mask, for the report's audit line."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ich_viewer.analysis.geometry import voxel_ml


@dataclass(frozen=True)
class MaskEdits:
    """Voxels the reader added to / removed from the model's mask, and the volume either side."""

    voxels_added: int
    voxels_removed: int
    volume_before_ml: float | None  # None when the spacing is unknown
    volume_after_ml: float | None

    @property
    def edited(self) -> bool:
        return bool(self.voxels_added or self.voxels_removed)


def compare_masks(model_mask: np.ndarray, edited_mask: np.ndarray, spacing_mm) -> MaskEdits:
    """Summarise the reader's edits of model_mask into edited_mask (both bool (z, y, x))."""
    before, after = np.asarray(model_mask, bool), np.asarray(edited_mask, bool)
    if before.shape != after.shape:
        raise ValueError(f"edited mask shape {after.shape} differs from the model's {before.shape}")
    ml = voxel_ml(spacing_mm)
    # Slice by slice: whole-series temporaries would each be as large as the mask.
    added = sum(int(np.count_nonzero(a > b)) for a, b in zip(after, before))
    removed = sum(int(np.count_nonzero(b > a)) for a, b in zip(after, before))
    return MaskEdits(
        voxels_added=added,
        voxels_removed=removed,
        volume_before_ml=None if ml is None else int(before.sum()) * ml,
        volume_after_ml=None if ml is None else int(after.sum()) * ml,
    )
