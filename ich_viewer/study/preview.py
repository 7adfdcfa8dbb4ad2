"""A picture of a series for the Series panel: its middle slice, decoding that one file.

list_series (the header pass) notes the middle slice of each series in
SeriesInfo.preview_file / preview_frame; here that single file is decoded,
never the whole series. No Qt: the panel turns the values into a thumbnail.
"""

from __future__ import annotations

import numpy as np

from ich_viewer.study.files import is_image_file
from ich_viewer.study.images import ImageProblem, read_gray_image
from ich_viewer.study.model import DISPLAY_FULL_RANGE, HU_PRESETS, Window
from ich_viewer.study.series import SeriesInfo

# Rows and columns kept of a large slice before windowing: a thumbnail is a few dozen pixels.
PREVIEW_MAX_PIXELS = 128
# The values a window spans for a series that is neither CT nor 8-bit images (MR, 16-bit exports).
PERCENTILES = (1.0, 99.0)


class PreviewProblem(Exception):
    """The middle slice cannot be shown; the message says why."""


def series_preview(info: SeriesInfo) -> tuple[np.ndarray, Window]:
    """The middle slice of a listed series, shrunk, and the window to show it with (slice_preview).
    PreviewProblem when it cannot be read."""
    path = info.preview_file
    if path is None:
        raise PreviewProblem("no slice to show")
    values = _image_values(path) if is_image_file(path) else _dicom_values(info)
    return slice_preview(values, hu=info.modality == "CT")


def slice_preview(values: np.ndarray, hu: bool) -> tuple[np.ndarray, Window]:
    """A slice shrunk to about PREVIEW_MAX_PIXELS, and its window: the brain window for HU, the
    stored grey values for 8-bit images, the 1st to 99th percentile for anything else."""
    step = max(1, -(-max(values.shape) // PREVIEW_MAX_PIXELS))
    values = values[::step, ::step]
    if hu:
        return values, HU_PRESETS["Brain"]
    if values.min() >= 0 and values.max() <= 255:
        return values, DISPLAY_FULL_RANGE  # 8-bit images: already windowed when exported
    low, high = (float(v) for v in np.percentile(values, PERCENTILES))
    return values, Window((low + high) / 2, max(high - low, 1.0))


def _image_values(path) -> np.ndarray:
    try:
        return read_gray_image(path).astype(np.float32)
    except ImageProblem as problem:
        raise PreviewProblem(str(problem)) from None


def _dicom_values(info: SeriesInfo) -> np.ndarray:
    from ich_viewer.study.dicom_series import SliceProblem, read_slice_header, split_frames
    from ich_viewer.study.dicom_volume import is_decoder_failure, slice_values

    try:
        dicom_slice = read_slice_header(info.preview_file)
        if info.preview_frame is not None and dicom_slice.n_frames > info.preview_frame:
            dicom_slice = split_frames(dicom_slice)[info.preview_frame]
        values = slice_values(dicom_slice)
    except SliceProblem as problem:
        raise PreviewProblem(str(problem)) from None
    except BaseException as error:  # any decoder failure, as when the series is read
        if not is_decoder_failure(error):
            raise
        raise PreviewProblem(f"pixel data cannot be decoded ({error})") from None
    if values.ndim != 2:
        raise PreviewProblem(f"pixel data of shape {values.shape}")
    return values
