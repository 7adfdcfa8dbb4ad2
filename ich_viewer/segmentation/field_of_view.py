"""The field of view the network reads: the head, framed as in the images it learned from.

CT-ICH's heads fill most of their 650 x 650 frame. A scanner reconstructs
on a field of view chosen by the technologist, and an exporter may add a
border: the same head can fill half the frame, and at the network's 256 x 256
its bleeds then shrink to a quarter of the pixels. (Measured: with the head
at 60% of the frame, version 2.0's per-patient Dice fell from 0.390 to 0.277.)

So, for a network whose manifest asks for it, the network reads a square
around the head, sized so the head spans HEAD_SPAN of the square's side as
in CT-ICH, instead of the whole frame. The square is one for the study (its
slices and their neighbours stay aligned) and is found from the brain window
of every slice: the largest connected region that is not air. The network's
output is put back in the square's place on the study's grid.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np

# Brain-window values (0-1) above this are not air or fat: skin, bone, brain.
NOT_AIR = 0.1
# Slices are searched at this size: a head is large; text burned into a corner is not.
SEARCH_SIZE = 128


@dataclass(frozen=True)
class Square:
    """A square of the study's grid: rows top..top+side, columns left..left+side (may reach past the edges)."""

    top: int
    left: int
    side: int


def head_extent(unit_slices: Iterable[np.ndarray], shape_yx: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """(top, left, bottom, right) in pixels of the union of every slice's largest non-air region.

    unit_slices: the brain window of each slice in [0, 1], one at a time (no copy of the study).
    """
    rows, cols = shape_yx
    scale = SEARCH_SIZE / max(rows, cols)
    small_shape = (max(1, round(cols * scale)), max(1, round(rows * scale)))
    union = np.zeros(small_shape[::-1], np.uint8)
    for image in unit_slices:
        small = cv2.resize(np.asarray(image, np.float32), small_shape, interpolation=cv2.INTER_AREA)
        count, labels, stats, _ = cv2.connectedComponentsWithStats((small > NOT_AIR).astype(np.uint8), 8)
        if count > 1:
            largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
            union |= (labels == largest).astype(np.uint8)
    if not union.any():
        return None
    found_rows, found_cols = np.flatnonzero(union.any(axis=1)), np.flatnonzero(union.any(axis=0))
    return (int(found_rows[0] / scale), int(found_cols[0] / scale),
            int(np.ceil((found_rows[-1] + 1) / scale)), int(np.ceil((found_cols[-1] + 1) / scale)))


def head_square(unit_slices: Iterable[np.ndarray], shape_yx: tuple[int, int], head_span: float) -> Square | None:
    """The square around the head in which it spans head_span of the side; None if no head is found."""
    extent = head_extent(unit_slices, shape_yx)
    if extent is None:
        return None
    top, left, bottom, right = extent
    side = max(8, round(max(bottom - top, right - left) / head_span))
    return Square(round((top + bottom - side) / 2), round((left + right - side) / 2), side)


def _overlap(square: Square, shape_yx: tuple[int, int]) -> tuple[tuple[slice, slice], tuple[slice, slice]]:
    """Where the square and the frame overlap: (in the frame's pixels, in the square's pixels)."""
    top, left = max(square.top, 0), max(square.left, 0)
    bottom = max(top, min(square.top + square.side, shape_yx[0]))
    right = max(left, min(square.left + square.side, shape_yx[1]))
    in_frame = (slice(top, bottom), slice(left, right))
    in_square = (slice(top - square.top, bottom - square.top), slice(left - square.left, right - square.left))
    return in_frame, in_square


def crop(image: np.ndarray, square: Square) -> np.ndarray:
    """The square's pixels of one slice; beyond the frame, zeros (air)."""
    out = np.zeros((square.side, square.side), image.dtype)
    in_frame, in_square = _overlap(square, image.shape)
    out[in_square] = image[in_frame]
    return out


def uncrop(square_image: np.ndarray, square: Square, shape_yx: tuple[int, int]) -> np.ndarray:
    """A (side, side) map of the square put back on a (rows, cols) grid; zeros outside it."""
    out = np.zeros(shape_yx, square_image.dtype)
    in_frame, in_square = _overlap(square, shape_yx)
    out[in_frame] = square_image[in_square]
    return out
