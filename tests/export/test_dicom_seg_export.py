"""DICOM SEG: reads back with highdicom and lines up slice by slice with the source CT."""

from __future__ import annotations

import numpy as np
import pytest

from ich_viewer.atomic import ExportError
from ich_viewer.export.dicom_seg import export_dicom_seg
from tests.factories.synthetic_ct import FAKE_SHA256, display_study, fake_model, hematoma_phantom, write_dicom_study


@pytest.fixture
def dicom_study(tmp_path):
    return write_dicom_study(tmp_path / "ct", n_slices=8, size=48)


def mask_from_seg(seg, source_uids: list[str], shape) -> np.ndarray:
    """Rebuild the (z, y, x) mask by matching each frame's referenced CT image."""
    slice_of = {uid: z for z, uid in enumerate(source_uids)}
    mask = np.zeros(shape, bool)  # empty frames are omitted from the SEG
    frames = seg.pixel_array.reshape(-1, *shape[1:])
    for frame, item in zip(frames, seg.PerFrameFunctionalGroupsSequence):
        uid = item.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
        mask[slice_of[uid]] |= frame.astype(bool)
    return mask


def test_seg_reads_back_equal_to_the_mask(dicom_study, tmp_path):
    import highdicom as hd

    study, mask = dicom_study
    path = export_dicom_seg(study, mask, tmp_path / "out" / "seg.dcm", model=fake_model())
    seg = hd.seg.segread(path)
    uids = study.geometry.sop_instance_uids
    np.testing.assert_array_equal(mask_from_seg(seg, uids, mask.shape), mask)
    # and highdicom's own lookup agrees
    by_instance = seg.get_pixels_by_source_instance(uids, segment_numbers=[1])
    np.testing.assert_array_equal(by_instance[..., 0].astype(bool), mask)


def test_seg_describes_the_hemorrhage_and_its_source(dicom_study, tmp_path):
    import highdicom as hd

    study, mask = dicom_study
    seg = hd.seg.segread(export_dicom_seg(study, mask, tmp_path / "seg.dcm", model=fake_model()))
    segment = seg.SegmentSequence[0]
    assert segment.SegmentLabel == "Hemorrhage"
    assert segment.SegmentedPropertyCategoryCodeSequence[0].CodeValue == "49755003"
    assert segment.SegmentedPropertyTypeCodeSequence[0].CodeValue == "50960005"
    assert segment.SegmentAlgorithmType == "AUTOMATIC"
    algorithm = segment.SegmentationAlgorithmIdentificationSequence[0]
    assert algorithm.AlgorithmName == "ich-unet25d"
    assert FAKE_SHA256 in algorithm.AlgorithmParameters
    assert seg.SegmentationType == "BINARY"
    assert seg.StudyInstanceUID == study.metadata.study_instance_uid
    assert seg.PatientID == study.metadata.patient_id
    assert seg.FrameOfReferenceUID == study.geometry.frame_of_reference_uid
    assert seg.ReferencedSeriesSequence[0].SeriesInstanceUID == study.metadata.series_instance_uid


@pytest.mark.parametrize(
    ("model", "edited", "expected"),
    [(True, True, "SEMIAUTOMATIC"), (False, False, "MANUAL")],
)
def test_algorithm_type_says_who_drew_the_mask(dicom_study, tmp_path, model, edited, expected):
    import highdicom as hd

    study, mask = dicom_study
    path = export_dicom_seg(
        study, mask, tmp_path / "seg.dcm", model=fake_model() if model else None, edited_by_reader=edited
    )
    assert hd.seg.segread(path).SegmentSequence[0].SegmentAlgorithmType == expected


def test_study_from_8bit_images_is_refused(tmp_path):
    volume, mask = hematoma_phantom(n_slices=4, size=32)
    with pytest.raises(ExportError, match="needs a study read from a DICOM series"):
        export_dicom_seg(display_study(volume), mask, tmp_path / "seg.dcm")
    assert list(tmp_path.iterdir()) == []


def test_changed_source_files_are_refused(dicom_study, tmp_path):
    study, mask = dicom_study
    study.slice_files = study.slice_files[::-1]
    with pytest.raises(ExportError, match="changed since it was opened"):
        export_dicom_seg(study, mask, tmp_path / "seg.dcm")


def test_unreadable_source_names_the_file(dicom_study, tmp_path):
    study, mask = dicom_study
    broken = study.slice_files[2]
    broken.write_bytes(b"not dicom")
    with pytest.raises(ExportError, match=f"{broken.name} cannot be read"):
        export_dicom_seg(study, mask, tmp_path / "seg.dcm")


def test_not_written_into_the_study_folder(dicom_study):
    study, mask = dicom_study
    with pytest.raises(ExportError, match="study's own folder"):
        export_dicom_seg(study, mask, study.source / "seg.dcm")
    export_dicom_seg(study, mask, study.source / "seg.dcm", allow_study_folder=True)


def test_seg_lines_up_with_the_loader(dicom_study, tmp_path):
    """The same round trip through the real DICOM loader, once it exists."""
    import highdicom as hd

    loader = pytest.importorskip("ich_viewer.study.loader", reason="study loader not written yet")
    written, mask = dicom_study
    study = loader.open_study(written.source)
    np.testing.assert_array_equal(study.voxels, written.voxels)
    path = export_dicom_seg(study, mask, tmp_path / "seg.dcm")
    seg = hd.seg.segread(path)
    np.testing.assert_array_equal(mask_from_seg(seg, study.geometry.sop_instance_uids, mask.shape), mask)


def test_seg_on_an_enhanced_multi_frame_ct_references_each_frame(tmp_path):
    import highdicom as hd
    import pydicom

    from ich_viewer.study.loader import open_study
    from tests.factories.dicom import write_ct_series, write_enhanced_ct

    series = write_ct_series(tmp_path / "single", n_slices=6, rows=32, cols=32, shuffle=True)
    source = write_enhanced_ct(tmp_path / "enhanced" / "ct.dcm", series)
    study = open_study(source.parent)
    mask = np.zeros(study.voxels.shape, bool)
    mask[2, 10:20, 12:18] = True  # one bleed, on one slice, and a smaller one higher up
    mask[4, 5:8, 5:9] = True

    seg = hd.seg.segread(export_dicom_seg(study, mask, tmp_path / "seg.dcm"))

    source_uid = str(pydicom.dcmread(source, stop_before_pixels=True).SOPInstanceUID)
    slice_of_frame = {frame: z for z, frame in enumerate(study.geometry.frame_numbers)}
    rebuilt = np.zeros_like(mask)
    for frame, item in zip(seg.pixel_array.reshape(-1, 32, 32), seg.PerFrameFunctionalGroupsSequence):
        reference = item.DerivationImageSequence[0].SourceImageSequence[0]
        assert reference.ReferencedSOPInstanceUID == source_uid
        rebuilt[slice_of_frame[int(reference.ReferencedFrameNumber)]] |= frame.astype(bool)
    np.testing.assert_array_equal(rebuilt, mask)
