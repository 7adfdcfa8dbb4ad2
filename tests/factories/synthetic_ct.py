"""Synthetic head CT for the analysis, export and report tests (and the report benchmark).

hematoma_phantom: a head (skull ring, brain) with an ellipsoidal hyperdense
bleed whose mask is known exactly; memory_dicom_study / display_study wrap it
in a Study as the DICOM or JPG loaders would. write_dicom_study writes a real
CT series with the study tests' factory. Names are obviously fictitious.

Import as `from tests.factories.synthetic_ct import ...` (pyproject's pytest
`pythonpath = ["."]` puts the repo root on sys.path).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ich_viewer.segmentation.result import ModelInfo, SegmentationResult
from ich_viewer.study.model import DicomGeometry, Study, StudyMetadata, Units, Window
from ich_viewer.study.qc import QcKind, QcWarning

PATIENT_NAME = "TESTPATIENT^ALICE"
PATIENT_ID = "PID-998877"
AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
FAKE_SHA256 = "3f1c9a7be2d4" + "0" * 40 + "deadbeef1234"


def hematoma_phantom(n_slices: int = 8, size: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(HU volume int16 (z, y, x), hematoma mask bool): an ellipsoidal bleed in a brain,
    so the hemorrhage area differs from slice to slice."""
    rng = np.random.default_rng(seed)
    z, y, x = np.ogrid[:n_slices, :size, :size]
    r = np.hypot((y - size / 2) / (0.42 * size), (x - size / 2) / (0.36 * size))
    volume = np.full((n_slices, size, size), -1000.0)
    volume[np.broadcast_to(r < 1.0, volume.shape)] = 1200.0  # skull
    volume[np.broadcast_to(r < 0.9, volume.shape)] = 32.0  # brain
    volume += rng.normal(0, 4, volume.shape)
    zc, yc, xc = (n_slices - 1) / 2, 0.42 * size, 0.62 * size
    semi_axes = (max(n_slices * 0.3, 1), 0.12 * size, 0.08 * size)
    mask = ((z - zc) / semi_axes[0]) ** 2 + ((y - yc) / semi_axes[1]) ** 2 + ((x - xc) / semi_axes[2]) ** 2 <= 1
    volume[mask] = 68.0 + rng.normal(0, 4, int(mask.sum()))
    return np.rint(volume).astype(np.int16), mask


def dicom_metadata() -> StudyMetadata:
    """Everything the report header can show, all fictitious."""
    return StudyMetadata(
        patient_name=PATIENT_NAME,
        patient_id=PATIENT_ID,
        birth_date="19540317",
        sex="F",
        study_date="20240211",
        accession_number="ACC-55501",
        study_description="CT HEAD WITHOUT CONTRAST",
        series_description="Axial 5mm brain",
        institution="Riverside General Hospital",
        modality="CT",
        manufacturer="SyntheticCT",
        study_instance_uid="1.2.826.0.1.3680043.8.498.1",
        series_instance_uid="1.2.826.0.1.3680043.8.498.2",
        series_number="3",
        slice_thickness_mm=5.0,
        kvp="120",
        convolution_kernel="H30s",
    )


def slice_positions(n_slices: int, spacing, origin=(-100.0, -120.0, 30.0), orientation=AXIAL) -> np.ndarray:
    """ImagePositionPatient of each slice: origin plus k slice steps along the normal."""
    normal = np.cross(orientation[:3], orientation[3:])
    return np.asarray(origin) + np.arange(n_slices)[:, None] * spacing[0] * normal


def write_dicom_study(folder: Path, n_slices: int = 8, size: int = 48, spacing=(5.0, 0.5, 0.5)):
    """(Study, hematoma mask) for a CT series written with the study tests' DICOM factory.

    The Study is built by hand from what was written, as the DICOM loader
    would build it, so export tests do not depend on the loader.
    """
    import pydicom

    from tests.factories.dicom import write_ct_series

    series = write_ct_series(folder, n_slices=n_slices, rows=size, cols=size, spacing=spacing)
    first = pydicom.dcmread(series.files[0], stop_before_pixels=True)
    metadata = StudyMetadata(
        patient_name=str(first.PatientName),
        patient_id=first.PatientID,
        study_date=first.StudyDate,
        series_description=first.SeriesDescription,
        modality=first.Modality,
        study_instance_uid=first.StudyInstanceUID,
        series_instance_uid=first.SeriesInstanceUID,
        slice_thickness_mm=float(first.SliceThickness),
    )
    study = Study(
        voxels=series.hu,
        units=Units.HU,
        spacing_mm=tuple(float(s) for s in spacing),
        source=Path(folder),
        metadata=metadata,
        slice_files=list(series.files),  # in volume order; the file names are shuffled
        slice_labels=[str(z + 1) for z in range(n_slices)],
        geometry=DicomGeometry(
            positions=series.positions,
            orientation=AXIAL,
            sop_instance_uids=[str(uid) for uid in series.sop_instance_uids],
            sop_class_uid=first.SOPClassUID,
            frame_of_reference_uid=first.FrameOfReferenceUID,
        ),
    )
    mask = series.hu >= 60  # the factory's 70 HU hematoma; brain stays below 55 HU
    mask[:2] = False  # slices without hemorrhage, whose frames the SEG omits
    return study, mask


def memory_dicom_study(
    volume_hu: np.ndarray, spacing=(5.0, 0.5, 0.5), source: Path = Path("/nonexistent/study")
) -> Study:
    """A DICOM-like HU study without files on disk (for the report and analysis)."""
    n = len(volume_hu)
    return Study(
        voxels=volume_hu.astype(np.float32),
        units=Units.HU,
        spacing_mm=spacing,
        source=source,
        metadata=dicom_metadata(),
        slice_labels=[str(k + 1) for k in range(n)],
        geometry=DicomGeometry(positions=slice_positions(n, spacing), orientation=AXIAL),
        warnings=[QcWarning(QcKind.MISMATCHED_SLICES,
                            "2 slices have a different reconstruction kernel (H30s vs H31s).")],
    )


def display_study(volume_hu: np.ndarray, source: Path = Path("/nonexistent/jpgs")) -> Study:
    """The same head as 8-bit brain-window images without spacing (the CT-ICH JPG case)."""
    window = Window(40, 120)
    display = np.clip((volume_hu - window.low) / window.width * 255, 0, 255).round()
    return Study(
        voxels=display.astype(np.float32),
        units=Units.DISPLAY,
        spacing_mm=None,
        source=source,
        warnings=[QcWarning(QcKind.VOXEL_SPACING,
                            "Pixel spacing unknown: areas are given in pixels and no volume in mL.")],
    )


def fake_model() -> ModelInfo:
    return ModelInfo(
        name="ich-unet25d",
        version="2024.1-test",
        sha256=FAKE_SHA256,
        threshold=0.5,
        detection_threshold=0.5,
        preprocessing="brain window L40/W120 to [0, 1]; 3 adjacent slices; resized to 256x256",
    )


def fake_segmentation(mask: np.ndarray) -> SegmentationResult:
    """What the engine would return if the network found exactly this mask."""
    probability = np.where(mask, 0.92, 0.03).astype(np.float32)
    return SegmentationResult(
        probability=probability,
        mask=mask.astype(bool),
        slice_scores=probability.max(axis=(1, 2)),
        model=fake_model(),
        device="CPU",
    )
