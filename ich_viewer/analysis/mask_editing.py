"""The reader's corrections of the model's hemorrhage mask: brush and eraser strokes, undo, redo.

numpy only. The model's mask is never written: the editor paints on its own
copy, and for every stroke keeps the slice as it was before and after, so
undo and redo restore exactly what the reader saw, one stroke at a time.

Positions are image coordinates in pixels, (x, y) = (column, row), where
pixel (i, j) covers [i, i+1) x [j, j+1): its centre is (i + 0.5, j + 0.5).
A brush of radius r paints every pixel whose centre lies within r pixels of
the path the mouse took, so a fast drag leaves no gaps between positions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# A reader corrects a study in tens of strokes; 200 slice pairs of 512 x 512 stay under 110 MB.
MAX_UNDO_STEPS = 200

Point = tuple[float, float]


def paint_segment(slice_mask: np.ndarray, start: Point, end: Point, radius: float, value: bool) -> None:
    """Set to `value` every pixel of a (y, x) bool slice within `radius` of the segment start-end."""
    ny, nx = slice_mask.shape
    (x0, y0), (x1, y1) = start, end
    left, right = max(math.floor(min(x0, x1) - radius), 0), min(math.ceil(max(x0, x1) + radius), nx)
    top, bottom = max(math.floor(min(y0, y1) - radius), 0), min(math.ceil(max(y0, y1) + radius), ny)
    if left >= right or top >= bottom:
        return  # the brush is entirely off the image
    ys, xs = np.mgrid[top:bottom, left:right].astype(np.float64) + 0.5
    slice_mask[top:bottom, left:right][_distance_sq(xs, ys, start, end) <= radius * radius] = value


def _distance_sq(xs: np.ndarray, ys: np.ndarray, start: Point, end: Point) -> np.ndarray:
    """Squared distance of each (x, y) to the segment start-end (a point when they coincide)."""
    (x0, y0), (x1, y1) = start, end
    dx, dy = x1 - x0, y1 - y0
    length_sq = dx * dx + dy * dy
    if length_sq == 0:
        t = 0.0
    else:
        t = np.clip(((xs - x0) * dx + (ys - y0) * dy) / length_sq, 0.0, 1.0)
    return (xs - (x0 + t * dx)) ** 2 + (ys - (y0 + t * dy)) ** 2


@dataclass(frozen=True)
class _Change:
    """One undoable step: the slices it changed, as they were before and after."""

    slices: np.ndarray  # int (k,)
    before: np.ndarray  # bool (k, y, x)
    after: np.ndarray  # bool (k, y, x)


@dataclass
class _Stroke:
    z: int
    radius: float
    value: bool  # True paints (brush), False erases
    last: Point
    before: np.ndarray  # the slice as it was when the stroke began


class MaskEditor:
    """Brush / eraser strokes on a copy of the model's mask, with per-stroke undo and redo."""

    def __init__(self, model_mask: np.ndarray) -> None:
        if model_mask.ndim != 3:
            raise ValueError(f"mask must be (z, y, x), got shape {model_mask.shape}")
        self.model_mask = model_mask  # read only: the model's output stays as it was
        self.mask = np.array(model_mask, dtype=bool, order="C", copy=True)
        self._undo: list[_Change] = []
        self._redo: list[_Change] = []
        self._stroke: _Stroke | None = None
        # The step just done, undone or redone, as (slices, before, after): what the provenance records.
        self.last_step: _Change | None = None

    # -- strokes --------------------------------------------------------------------------
    def begin_stroke(self, z: int, at: Point, radius: float, erase: bool = False) -> None:
        """Start painting (or erasing, with erase=True) on slice z; paints the first disk."""
        self.end_stroke()
        if not 0 <= z < self.mask.shape[0]:
            raise IndexError(f"slice {z} is outside the study (0..{self.mask.shape[0] - 1})")
        if radius <= 0:
            raise ValueError(f"brush radius must be positive, got {radius}")
        self._stroke = _Stroke(z, float(radius), not erase, at, self.mask[z].copy())
        paint_segment(self.mask[z], at, at, radius, not erase)

    def extend_stroke(self, to: Point) -> None:
        """Continue the stroke to a new mouse position, covering the path in between."""
        stroke = self._stroke
        if stroke is None:
            return
        paint_segment(self.mask[stroke.z], stroke.last, to, stroke.radius, stroke.value)
        stroke.last = to

    def end_stroke(self) -> bool:
        """Finish the stroke as one undo step; False when it changed nothing (then no step)."""
        stroke, self._stroke = self._stroke, None
        if stroke is None or np.array_equal(stroke.before, self.mask[stroke.z]):
            return False
        self._push(_Change(np.array([stroke.z]), stroke.before[None], self.mask[stroke.z][None].copy()))
        return True

    @property
    def stroke_slice(self) -> int | None:
        """The slice being painted, while a stroke is in progress."""
        return None if self._stroke is None else self._stroke.z

    # -- whole-mask steps -------------------------------------------------------------------
    def reset(self) -> list[int]:
        """Back to the model's output, as one undoable step; returns the slices that changed."""
        return self.replace(self.model_mask)

    def erase_region(self, region: np.ndarray) -> list[int]:
        """Erase every voxel of a bool (z, y, x) region (a rejected lesion) as one undoable step."""
        return self.replace(self.mask & ~np.asarray(region, bool))

    def replace(self, mask: np.ndarray) -> list[int]:
        """Make the mask equal to `mask` (restored edits) as one undoable step; returns the slices changed."""
        self.end_stroke()
        mask = np.asarray(mask, bool)
        if mask.shape != self.mask.shape:
            raise ValueError(f"mask shape {mask.shape} differs from the edited mask's {self.mask.shape}")
        changed = np.flatnonzero((self.mask != mask).any(axis=(1, 2)))
        if changed.size:
            self._push(_Change(changed, self.mask[changed].copy(), mask[changed].copy()))
            self.mask[changed] = mask[changed]
        return changed.tolist()

    def undo(self) -> list[int]:
        """Undo the last step; returns the slices it changed (empty when there was nothing to undo)."""
        return self._replay(self._undo, self._redo, lambda change: change.before)

    def redo(self) -> list[int]:
        return self._replay(self._redo, self._undo, lambda change: change.after)

    def _replay(self, source: list, target: list, state) -> list[int]:
        """Move the newest change from source to target, leaving its slices in state(change)."""
        self.end_stroke()
        if not source:
            return []
        change = source.pop()
        before = self.mask[change.slices].copy()
        self.mask[change.slices] = state(change)
        target.append(change)
        self.last_step = _Change(change.slices, before, self.mask[change.slices].copy())
        return change.slices.tolist()

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def is_edited(self) -> bool:
        """True while the mask differs from the model's output."""
        return not np.array_equal(self.mask, self.model_mask)

    def _push(self, change: _Change) -> None:
        self.last_step = change
        self._undo.append(change)
        del self._undo[:-MAX_UNDO_STEPS]
        self._redo.clear()  # a new edit makes the undone ones unreachable, as in every editor
