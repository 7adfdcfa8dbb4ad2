"""Reading studies from disk (DICOM series, image folders, the CT-ICH layout). No Qt here."""

from ich_viewer.study.model import (
    CT_ICH_BRAIN_WINDOW,
    HU_PRESETS,
    DicomGeometry,
    Study,
    StudyMetadata,
    Units,
    Window,
)
from ich_viewer.study.qc import QcKind, QcWarning

__all__ = [
    "CT_ICH_BRAIN_WINDOW",
    "HU_PRESETS",
    "DicomGeometry",
    "QcKind",
    "QcWarning",
    "Study",
    "StudyMetadata",
    "Units",
    "Window",
]
