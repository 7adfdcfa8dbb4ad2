"""What the series picker shows about one series (kept free of pydicom so it imports fast)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class SeriesInfo:
    """One series as the series picker and the Series panel show it."""

    series_instance_uid: str  # "" for image studies
    description: str
    modality: str
    n_slices: int
    rows: int
    cols: int
    is_axial: bool
    label: str  # a short line for the picker: "3: Head 5mm - CT, 32 slices, 512x512, axial"
    series_number: str = ""
    slice_thickness_mm: float | None = None  # SliceThickness (the most common one); None for images
    # The middle slice (a file, and its frame in a multi-frame file): the one file a thumbnail decodes.
    # Where to find a picture of the series, not what it is: left out of comparisons.
    preview_file: Path | None = field(default=None, compare=False)
    preview_frame: int | None = field(default=None, compare=False)
