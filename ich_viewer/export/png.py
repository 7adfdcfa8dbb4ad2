"""Key images: a windowed CT slice with the hemorrhage outlined in red, as PNG files.

The pixels are ich_viewer.rendering's, which the PDF report draws too, so what a
reader exports and what the report shows are identical.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ich_viewer.analysis.findings import largest_slices
from ich_viewer.atomic import ExportError, ensure_outside_study_folder, write_atomic
from ich_viewer.rendering import encode_png, render_slice
from ich_viewer.study.model import Study, Window


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
