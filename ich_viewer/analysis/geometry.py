"""Sizes of a hemorrhage outline: the volume of a voxel in mL, and the A and B diameters of ABC/2.

Distances are measured on the outer edges of the pixels (a 10-pixel-wide
blob is 10 pixels wide, not 9), in millimetres so that non-square pixels
are handled. numpy only.
"""

from __future__ import annotations

import numpy as np

MM3_PER_ML = 1000.0


def voxel_ml(spacing_mm: tuple[float, float, float] | None) -> float | None:
    """The volume of one voxel in mL (dz x dy x dx mm³ / 1000); None when the spacing is unknown."""
    if spacing_mm is None:
        return None
    dz, dy, dx = spacing_mm
    return dz * dy * dx / MM3_PER_ML


def _row_extreme_corners(slice_mask: np.ndarray) -> np.ndarray:
    """Pixel corners (x, y) at the left and right end of every row of the mask.

    The convex hull of all pixel squares equals the hull of these corners,
    so measuring them is exact and far cheaper than using every pixel.
    """
    rows = np.flatnonzero(slice_mask.any(axis=1))
    row_pixels = slice_mask[rows]
    left = row_pixels.argmax(axis=1)
    right = slice_mask.shape[1] - 1 - row_pixels[:, ::-1].argmax(axis=1)
    xs = np.concatenate([left, left, right + 1, right + 1])
    ys = np.concatenate([rows, rows + 1, rows, rows + 1])
    return np.stack([xs, ys], axis=1).astype(np.float64)


def _convex_hull(points: np.ndarray) -> np.ndarray:
    """Vertices of the convex hull (Andrew's monotone chain), counter-clockwise."""
    pts = np.unique(points, axis=0)  # sorted by x then y
    if len(pts) <= 2:
        return pts

    def half(seq: np.ndarray) -> list[np.ndarray]:
        chain: list[np.ndarray] = []
        for p in seq:
            while len(chain) >= 2:
                o, a = chain[-2], chain[-1]
                cross = (a[0] - o[0]) * (p[1] - o[1]) - (a[1] - o[1]) * (p[0] - o[0])
                if cross > 0:
                    break
                chain.pop()
            chain.append(p)
        return chain

    lower, upper = half(pts), half(pts[::-1])
    return np.array(lower[:-1] + upper[:-1])


def longest_axes_mm(slice_mask: np.ndarray, pixel_spacing_mm: tuple[float, float]) -> tuple[float, float]:
    """(A, B): the longest diameter of the outline and its widest perpendicular extent.

    A is the largest distance between two points of the outline (maximum
    Feret diameter), as a reader would place the first caliper. B is the
    width of the outline measured perpendicular to A (the second caliper).
    pixel_spacing_mm is (row spacing, column spacing), i.e. (dy, dx).
    """
    if not slice_mask.any():
        return 0.0, 0.0
    dy, dx = pixel_spacing_mm
    hull = _convex_hull(_row_extreme_corners(slice_mask)) * np.array([dx, dy])
    differences = hull[:, None, :] - hull[None, :, :]
    distances = np.hypot(differences[..., 0], differences[..., 1])
    i, j = np.unravel_index(np.argmax(distances), distances.shape)
    a_mm = float(distances[i, j])
    along_a = (hull[j] - hull[i]) / a_mm
    perpendicular = np.array([-along_a[1], along_a[0]])
    across = hull @ perpendicular
    return a_mm, float(across.max() - across.min())


def solidity(slice_mask: np.ndarray) -> float:
    """Area of the outline over the area of its convex hull (1 for a convex blob, low for a crescent).

    Both are measured on pixel squares, so a filled rectangle is exactly 1.
    An empty slice counts as convex (1.0): there is no shape to judge.
    """
    area = int(slice_mask.sum())
    if area == 0:
        return 1.0
    hull = _convex_hull(_row_extreme_corners(slice_mask))
    if len(hull) < 3:
        return 1.0
    x, y = hull[:, 0], hull[:, 1]
    hull_area = 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))
    return min(area / hull_area, 1.0) if hull_area > 0 else 1.0


def deepest_mm(slice_mask: np.ndarray, spacing_yx: tuple[float, float]) -> float:
    """The largest distance, in mm, from a pixel centre of a (y, x) bool outline to the nearest pixel
    outside it (scipy's exact Euclidean distance transform, on the pixel spacing); 0 when empty."""
    from scipy import ndimage

    rows, cols = np.flatnonzero(slice_mask.any(axis=1)), np.flatnonzero(slice_mask.any(axis=0))
    if not rows.size:
        return 0.0
    # Its bounding box with a ring of outside pixels around it (which also ends a lesion touching
    # the frame) holds every pixel's nearest outside pixel: one beyond the box is never nearer than
    # the ring pixel on the way to it. A 512^2 transform per slice was most of a long series' findings.
    box = np.pad(slice_mask[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1], 1)
    return float(ndimage.distance_transform_edt(box, sampling=spacing_yx).max())


def thickness_mm(deepest: float, spacing_yx: tuple[float, float]) -> float:
    """The greatest in-plane thickness of a lesion, in mm, from its deepest_mm over its slices: the
    diameter of the widest disc that fits inside it on any slice, the figure neurosurgeons take for an
    extra-axial collection (measured across the collection, wherever it is thickest).

    The edge lies half a pixel before the nearest pixel outside, and the widest disc's centre may fall
    between pixel centres, so the width is 2d - 1 pixel (an odd number of pixels across) to 2d
    (even); 2d - half a pixel is within half a pixel of it either way.
    """
    dy, dx = spacing_yx
    return max(0.0, 2.0 * deepest - 0.5 * (dy + dx) / 2)
