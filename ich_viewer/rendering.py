"""How a slice and its hemorrhage look: windowing to grey, the outline of the mask, key-image pixels.

One place for both the screen and paper: the viewer's overlay outlines the mask
with `outline`, and the PNG key images and the PDF report draw `render_slice`, so
a reader sees the same red band in the window, the exported images and the report.
Images are RGB uint8 (y, x, 3); OpenCV wants BGR, so the swap happens only when encoding.
"""

from __future__ import annotations

import numpy as np

from ich_viewer.study.model import Study, Window

# One red for the model's hemorrhage everywhere (cyan is the reference's: distinct for
# red-green colour blindness).
HEMORRHAGE_RED = (255, 40, 40)
FILL_OPACITY = 0.35


def window_to_uint8(image: np.ndarray, window: Window) -> np.ndarray:
    """Map values in the window to 0..255, clipping outside it, as the viewer does."""
    scaled = (np.asarray(image, np.float32) - window.low) * (255.0 / window.width)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def outline(mask: np.ndarray, width_px: int = 1, dst: np.ndarray | None = None) -> np.ndarray:
    """uint8 0/1 band across the boundary of a 2-D mask: width_px pixels each side of the edge.

    A band across the edge (not a line inside it) survives nearest-neighbour downscaling
    when the slice is shown smaller than 1:1, and it is cheap enough to redo on every scroll.
    dst: a preallocated (y, x) uint8 array to write into (the viewer reuses one).
    """
    import cv2

    kernel = np.ones((2 * width_px + 1, 2 * width_px + 1), np.uint8)
    source = mask if mask.dtype == np.uint8 else np.asarray(mask, bool).view(np.uint8)
    return cv2.morphologyEx(source, cv2.MORPH_GRADIENT, kernel, dst=dst)


def draw_hemorrhage(gray: np.ndarray, mask: np.ndarray, style: str = "contour") -> np.ndarray:
    """RGB image of a uint8 slice with the mask as a red outline ("contour") or
    a translucent red fill with its outline ("fill")."""
    if style not in ("contour", "fill"):
        raise ValueError(f"overlay style must be 'contour' or 'fill', got {style!r}")
    rgb = np.repeat(gray[..., None], 3, axis=2)
    red = np.array(HEMORRHAGE_RED, np.float32)
    mask = np.asarray(mask, bool)
    if style == "fill" and mask.any():
        rgb[mask] = np.rint((1 - FILL_OPACITY) * rgb[mask] + FILL_OPACITY * red).astype(np.uint8)
    # 1 px each side on a 512 matrix: about 0.25 mm when printed, visible without hiding the edge
    rgb[outline(mask, max(1, round(max(gray.shape) / 512))).astype(bool)] = HEMORRHAGE_RED
    return rgb


def render_slice(study: Study, z: int, window: Window | None = None, mask: np.ndarray | None = None,
                 style: str = "contour", min_size_px: int | None = None) -> np.ndarray:
    """Slice z of the study, windowed; grey (y, x) without a mask, RGB (y, x, 3) with one.

    mask is the (z, y, x) hemorrhage mask; min_size_px enlarges small slices.
    """
    gray = window_to_uint8(study.voxels[z], window or study.default_window())
    slice_mask = None if mask is None else np.asarray(mask[z], bool)
    gray, slice_mask = _upscale(gray, slice_mask, min_size_px)
    return gray if slice_mask is None else draw_hemorrhage(gray, slice_mask, style)


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


def encode_png(image: np.ndarray) -> bytes:
    """PNG bytes of a grey (y, x) or RGB (y, x, 3) uint8 image."""
    import cv2

    bgr = image if image.ndim == 2 else image[..., ::-1]
    ok, data = cv2.imencode(".png", np.ascontiguousarray(bgr))
    if not ok:
        raise ValueError(f"OpenCV could not encode a {image.shape} image as PNG")
    return data.tobytes()
