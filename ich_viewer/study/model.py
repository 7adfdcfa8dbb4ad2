"""The Study: one CT series as a (z, y, x) volume plus what we know about it.

Everything downstream (viewer, segmentation, findings, report, exports)
reads a Study and nothing else, so every loader must fill it the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import numpy as np

from ich_viewer.study.qc import QcWarning


class Units(str, Enum):
    """What the voxel values mean."""

    HU = "HU"  # Hounsfield units (DICOM CT after rescale)
    DISPLAY = "display"  # 8-bit display values of an already windowed image (JPG/PNG)


@dataclass(frozen=True)
class Window:
    """A display window in the study's units: values level +- width/2 map to black..white."""

    level: float
    width: float

    @property
    def low(self) -> float:
        return self.level - self.width / 2

    @property
    def high(self) -> float:
        return self.level + self.width / 2


# Presets for HU studies, in the order of the number keys 1..4.
HU_PRESETS: dict[str, Window] = {
    "Brain": Window(40, 80),
    "Subdural": Window(75, 215),
    "Stroke": Window(40, 40),
    "Bone": Window(600, 2800),
}
# The window CT-ICH used to render its brain JPGs (checked against the HU subset).
CT_ICH_BRAIN_WINDOW = Window(40, 120)
# The window of CT-ICH's bone JPGs; the network's bone channel uses it for every study.
CT_ICH_BONE_WINDOW = Window(700, 3200)
DISPLAY_FULL_RANGE = Window(127.5, 255)
# What the viewer, findings.json and the report say instead of a verdict (see Study.not_hu_reason).
NOT_HU_RESULT = "Not a CT in Hounsfield units: no hemorrhage verdict"


@dataclass
class StudyMetadata:
    """Patient / study / series facts, as found in DICOM (empty strings when absent)."""

    patient_name: str = ""
    patient_id: str = ""
    birth_date: str = ""
    sex: str = ""
    study_date: str = ""
    accession_number: str = ""
    study_description: str = ""
    series_description: str = ""
    institution: str = ""
    modality: str = ""
    manufacturer: str = ""
    study_instance_uid: str = ""
    series_instance_uid: str = ""
    series_number: str = ""
    slice_thickness_mm: float | None = None
    kvp: str = ""
    convolution_kernel: str = ""


@dataclass
class DicomGeometry:
    """Patient-space geometry of a DICOM series (LPS, mm), for NIfTI and DICOM SEG."""

    # ImagePositionPatient of each slice, in volume order, shape (z, 3)
    positions: np.ndarray
    # ImageOrientationPatient: row direction cosines then column direction cosines
    orientation: tuple[float, float, float, float, float, float]
    sop_instance_uids: list[str] = field(default_factory=list)
    sop_class_uid: str = ""
    frame_of_reference_uid: str = ""
    # For a multi-frame image: the 1-based frame number of each slice in its file; else empty.
    frame_numbers: list[int] = field(default_factory=list)


@dataclass
class Study:
    """One series ready for review.

    voxels      float32 (z, y, x); z runs in the order slices are shown (inferior to
                superior for DICOM sorted along the slice normal, file order otherwise).
    units       Units.HU or Units.DISPLAY.
    spacing_mm  (z, y, x) voxel spacing, or None when unknown (8-bit images).
    """

    voxels: np.ndarray
    units: Units
    spacing_mm: tuple[float, float, float] | None
    source: Path
    metadata: StudyMetadata = field(default_factory=StudyMetadata)
    # What is wrong with the input; a tuple, since nothing downstream should add to it.
    warnings: tuple[QcWarning, ...] = ()
    # The file each slice came from (same length as voxels).
    slice_files: list[Path] = field(default_factory=list)
    # Slice labels shown to the reader ("12" for CT-ICH 12.jpg, InstanceNumber for DICOM).
    slice_labels: list[str] = field(default_factory=list)
    # Windows stored in the DICOM (WindowCenter/Width), in HU.
    dicom_windows: list[Window] = field(default_factory=list)
    # A reference segmentation shipped with the data (CT-ICH *_HGE_Seg.jpg), bool (z, y, x).
    reference_mask: np.ndarray | None = None
    geometry: DicomGeometry | None = None
    description: str = ""
    # DISPLAY studies: the HU window the 8-bit images were exported with, so the network
    # can map them to its own convention; None means the CT-ICH brain window is assumed.
    export_window: Window | None = None
    export_window_note: str = ""  # how it is known: the CT-ICH layout, estimated, or set by the reader
    # DISPLAY studies that come with a bone-window image per slice (CT-ICH bone/ folder,
    # CT_ICH_BONE_WINDOW): 8-bit values, same shape as voxels, 0 on a slice without one.
    bone_voxels: np.ndarray | None = None
    # Why the values are not a CT's Hounsfield units (another modality, no or implausible
    # rescale): then no hemorrhage verdict is given. Empty for CT in HU and for 8-bit CT images.
    not_hu_reason: str = ""

    def __post_init__(self) -> None:
        if self.voxels.ndim != 3:
            raise ValueError(f"Study voxels must be (z, y, x), got shape {self.voxels.shape}")
        self.warnings = tuple(self.warnings)
        if not all(isinstance(w, QcWarning) for w in self.warnings):
            # Free text could name a file, and the anonymised report could not leave it out.
            raise TypeError("Study warnings must be QcWarning, not free text")
        if not self.slice_labels:
            self.slice_labels = [str(i + 1) for i in range(self.n_slices)]

    @property
    def n_slices(self) -> int:
        return int(self.voxels.shape[0])

    @property
    def is_hu(self) -> bool:
        return self.units is Units.HU

    @property
    def assessable(self) -> bool:
        """Whether a hemorrhage verdict can rest on these values (see not_hu_reason)."""
        return not self.not_hu_reason

    def default_window(self) -> Window:
        if not self.is_hu:
            return DISPLAY_FULL_RANGE
        return HU_PRESETS["Brain"]
