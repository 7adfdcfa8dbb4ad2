"""Key images: a windowed CT slice with the hemorrhage outlined in red, as PNG.

The same rendering feeds the PDF report, so what a reader exports and what
the report shows are identical pixels. Images are RGB uint8 (y, x, 3);
OpenCV wants BGR, so the swap happens only when encoding.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ich_viewer.analysis.findings import largest_slices
from ich_viewer.export.atomic import ExportError, ensure_outside_study_folder, write_atomic
from ich_viewer.study.model import Study, Window

HEMORRHAGE_RED = (255, 0, 0)
FILL_OPACITY = 0.35


def window_to_uint8(image: np.ndarray, window: Window) -> np.ndarray:
    """Map values in the window to 0..255, clipping outside it, as the viewer does."""
    scaled = (np.asarray(image, np.float32) - window.low) * (255.0 / window.width)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def _upscale(gray: np.ndarray, mask: np.ndarray | None, min_size_px: int | None):
    """Enlarge small slices so they stay sharp when printed; the mask by nearest
    neighbour so its outline still follows the voxels the model labelled."""
    import cv2

    if not min_size_px or max(gray.shape) >= min_size_px:
        return gray, mask
    factor = min_size_px / max(gray.shape)
    size = (round(gray.shape[1] * factor), round(gray.shape[0] * factor))
    gray = cv2.resize(gray, size, interpolation=cv2.INTER_CUBIC)
    if mask is not None:
        mask = cv2.resize(mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)
    return gray, mask


def draw_hemorrhage(gray: np.ndarray, mask: np.ndarray, style: str = "contour") -> np.ndarray:
    """RGB image of a uint8 slice with the mask as a red outline ("contour") or
    a translucent red fill with its outline ("fill")."""
    import cv2

    if style not in ("contour", "fill"):
        raise ValueError(f"overlay style must be 'contour' or 'fill', got {style!r}")
    rgb = np.repeat(gray[..., None], 3, axis=2)
    if style == "fill" and mask.any():
        red = np.array(HEMORRHAGE_RED, np.float32)
        rgb[mask] = np.rint((1 - FILL_OPACITY) * rgb[mask] + FILL_OPACITY * red).astype(np.uint8)
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    # 2 px on a 512 matrix: about 0.25 mm when printed, visible on paper without hiding the edge
    thickness = max(1, round(max(gray.shape) / 256))
    cv2.drawContours(rgb, contours, -1, HEMORRHAGE_RED, thickness)
    return rgb


def render_slice(
    study: Study,
    z: int,
    window: Window | None = None,
    mask: np.ndarray | None = None,
    style: str = "contour",
    min_size_px: int | None = None,
) -> np.ndarray:
    """Slice z of the study, windowed; grey (y, x) without a mask, RGB (y, x, 3) with one.

    mask is the (z, y, x) hemorrhage mask; min_size_px enlarges small slices.
    """
    gray = window_to_uint8(study.voxels[z], window or study.default_window())
    slice_mask = None if mask is None else np.asarray(mask[z], bool)
    gray, slice_mask = _upscale(gray, slice_mask, min_size_px)
    return gray if slice_mask is None else draw_hemorrhage(gray, slice_mask, style)


def encode_png(image: np.ndarray) -> bytes:
    """PNG bytes of a grey (y, x) or RGB (y, x, 3) uint8 image."""
    import cv2

    bgr = image if image.ndim == 2 else image[..., ::-1]
    ok, data = cv2.imencode(".png", np.ascontiguousarray(bgr))
    if not ok:
        raise ExportError("Could not encode the key image as PNG.")
    return data.tobytes()


def _safe_label(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", label).strip("_") or "slice"


def export_key_images(
    study: Study,
    mask: np.ndarray,
    folder: Path | str,
    slices: list[int] | None = None,
    window: Window | None = None,
    style: str = "contour",
    allow_study_folder: bool = False,
) -> list[Path]:
    """Write one PNG per key slice (default: the 6 with the largest hemorrhage area).

    Files are named key_image_<slice label>.png; returns their paths.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ExportError(f"Cannot write key images into {folder}: it is a file, not a folder.")
    if slices is None:
        slices = largest_slices(np.asarray(mask, bool).sum(axis=(1, 2)))
    written = []
    for z in slices:
        dest = folder / f"key_image_{_safe_label(study.slice_labels[z])}.png"
        ensure_outside_study_folder(dest, study.source, allow_study_folder)
        written.append(write_atomic(dest, encode_png(render_slice(study, z, window, mask, style))))
    return written
