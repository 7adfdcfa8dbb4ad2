"""What the series picker shows about one series (kept free of pydicom so it imports fast)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SeriesInfo:
    """One series as the series picker shows it."""

    series_instance_uid: str  # "" for image studies
    description: str
    modality: str
    n_slices: int
    rows: int
    cols: int
    is_axial: bool
    label: str  # a short line for the picker: "3: Head 5mm - CT, 32 slices, 512x512, axial"
    series_number: str = ""
