"""DICOM series -> Study: order, HU, spacing, geometry, compression, QC warnings."""

from __future__ import annotations

import shutil

import numpy as np
import pydicom
import pytest
from pydicom.uid import (
    JPEG2000Lossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    RLELossless,
)

from ich_viewer.study.loader import StudyLoadError, list_series, open_study
from ich_viewer.study.model import Units, Window
from tests.factories.dicom import save_dataset, write_ct_series, write_enhanced_ct


def warnings_about(study, *words):
    shown = [str(w) for w in study.warnings]  # as the viewer lists them: text, then files
    return [w for w in shown if all(word.lower() in w.lower() for word in words)]


def test_shuffled_series_loads_in_position_order_as_hu(tmp_path):
    series = write_ct_series(tmp_path / "ct", n_slices=10, intercept=-1024, shuffle=True)

    study = open_study(tmp_path / "ct")

    assert study.units is Units.HU
    np.testing.assert_array_equal(study.voxels, series.hu)
    assert study.voxels.dtype == np.float32
    assert study.spacing_mm == (5.0, 0.5, 0.5)
    assert study.slice_labels == [str(z + 1) for z in range(10)]
    assert study.warnings == ()
    assert study.voxels.min() < -900  # air came through the -1024 intercept


def test_geometry_and_metadata_for_export(tmp_path):
    series = write_ct_series(tmp_path / "ct", n_slices=6)

    study = open_study(tmp_path / "ct")

    geometry = study.geometry
    np.testing.assert_allclose(geometry.positions, series.positions, atol=1e-3)
    assert geometry.positions[0, 2] < geometry.positions[-1, 2]  # inferior to superior
    assert geometry.orientation == (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
    assert geometry.sop_instance_uids == series.sop_instance_uids
    assert geometry.sop_class_uid == pydicom.uid.CTImageStorage
    assert geometry.frame_of_reference_uid
    assert study.metadata.patient_id == "PHANTOM-1"
    assert study.metadata.series_instance_uid == series.series_uid
    assert study.metadata.modality == "CT"
    assert study.metadata.slice_thickness_mm == 5.0
    assert study.dicom_windows == [Window(40, 80), Window(600, 2800)]
    assert study.slice_files == sorted(study.slice_files, key=series.files.index)
    assert "Head 5mm" in study.description


@pytest.mark.parametrize("slope, intercept", [(1.0, -1024.0), (2.0, -1024.0), (1.0, 0.0)])
def test_rescale_is_applied_per_slice(tmp_path, slope, intercept):
    series = write_ct_series(tmp_path / "ct", n_slices=3, slope=slope, intercept=intercept)

    study = open_study(tmp_path / "ct")

    np.testing.assert_array_equal(study.voxels, series.hu)


@pytest.mark.parametrize(
    "transfer_syntax",
    [RLELossless, JPEG2000Lossless, JPEGLSLossless, JPEGLosslessSV1],
    ids=["RLE", "JPEG2000-lossless", "JPEG-LS-lossless", "JPEG-lossless-gdcm"],
)
def test_compressed_series_decode_to_exact_hu(tmp_path, transfer_syntax):
    series = write_ct_series(tmp_path / "ct", n_slices=3, transfer_syntax=transfer_syntax)
    assert pydicom.dcmread(series.files[0]).file_meta.TransferSyntaxUID == transfer_syntax

    study = open_study(tmp_path / "ct")

    np.testing.assert_array_equal(study.voxels, series.hu)
    assert study.warnings == ()


def test_two_series_default_to_the_axial_ct_with_most_slices(tmp_path):
    folder = tmp_path / "two"
    thin = write_ct_series(folder, n_slices=12, series_description="Head thin", file_prefix="A")
    thick = write_ct_series(folder, n_slices=4, series_description="Head thick", file_prefix="B")
    write_ct_series(folder, n_slices=20, orientation=(1, 0, 0, 0, 0, -1),
                    series_description="Coronal", file_prefix="C")
    write_ct_series(folder, n_slices=30, modality="MR", series_description="MR", file_prefix="D")

    infos = {info.series_instance_uid: info for info in list_series(folder)}
    default = open_study(folder)
    chosen = open_study(folder, series_uid=thick.series_uid)

    assert len(infos) == 4
    assert infos[thin.series_uid].n_slices == 12 and infos[thin.series_uid].is_axial
    assert "Head thin" in infos[thin.series_uid].label
    assert default.metadata.series_instance_uid == thin.series_uid
    assert warnings_about(default, "4 series")
    np.testing.assert_array_equal(chosen.voxels, thick.hu)


def test_unknown_series_uid_names_what_is_there(tmp_path):
    write_ct_series(tmp_path / "ct", n_slices=2)

    with pytest.raises(StudyLoadError, match="not in") as error:
        open_study(tmp_path / "ct", series_uid="1.2.3.4")
    assert "Head 5mm" in str(error.value)


def test_missing_slice_gives_a_gap_warning_naming_the_files(tmp_path):
    series = write_ct_series(tmp_path / "ct", n_slices=8, missing_slices=[4])

    study = open_study(tmp_path / "ct")

    np.testing.assert_array_equal(study.voxels, series.hu)
    assert study.spacing_mm[0] == 5.0  # the median, not the gap
    gaps = warnings_about(study, "gap of 10.00 mm")
    assert len(gaps) == 1 and ".dcm" in gaps[0] and "1 slice missing" in gaps[0]


def test_uneven_spacing_is_reported(tmp_path):
    def shift_last(ds, z):
        if z == 5:
            ds.ImagePositionPatient[2] += 0.8
    write_ct_series(tmp_path / "ct", n_slices=6, edit=shift_last)

    study = open_study(tmp_path / "ct")

    assert warnings_about(study, "spacing between slices varies")
    assert not warnings_about(study, "gap")


def test_duplicate_positions_are_dropped_with_a_warning(tmp_path):
    series = write_ct_series(tmp_path / "ct", n_slices=5)
    shutil.copy(series.files[0], tmp_path / "ct" / "copy.dcm")

    def same_place_as_slice_1(ds, z):
        if z == 2:
            ds.ImagePositionPatient = list(series.positions[1])
    write_ct_series(tmp_path / "dup", n_slices=5, edit=same_place_as_slice_1)

    copied = open_study(tmp_path / "ct")
    collided = open_study(tmp_path / "dup")

    assert copied.n_slices == 5
    assert warnings_about(copied, "duplicate", "second copy")
    assert collided.n_slices == 4
    assert warnings_about(collided, "duplicate", "same position")


def test_gantry_tilt_is_reported_from_tag_and_from_positions(tmp_path):
    write_ct_series(tmp_path / "tag", n_slices=4, gantry_tilt_deg=15)
    write_ct_series(tmp_path / "sheared", n_slices=4, gantry_tilt_deg=15,
                    omit_tags=["GantryDetectorTilt"])

    assert warnings_about(open_study(tmp_path / "tag"), "gantry tilt of 15")
    assert warnings_about(open_study(tmp_path / "sheared"), "15.0 degrees off the slice normal")


def test_missing_positions_fall_back_to_instance_number(tmp_path):
    series = write_ct_series(tmp_path / "ct", n_slices=5,
                             omit_tags=["ImagePositionPatient"], shuffle=True)

    study = open_study(tmp_path / "ct")

    np.testing.assert_array_equal(study.voxels, series.hu)
    assert warnings_about(study, "ordered by InstanceNumber")
    assert warnings_about(study, "ImagePositionPatient", "missing in 5 of 5")
    assert warnings_about(study, "taken from SliceThickness")
    assert study.spacing_mm == (5.0, 0.5, 0.5)
    assert study.geometry is None


def test_no_positions_nor_instance_numbers_keep_file_order(tmp_path):
    series = write_ct_series(tmp_path / "ct", n_slices=4, shuffle=False,
                             omit_tags=["ImagePositionPatient", "InstanceNumber"])

    study = open_study(tmp_path / "ct")

    np.testing.assert_array_equal(study.voxels, series.hu)
    assert warnings_about(study, "ordered by file name")


def test_missing_pixel_spacing_leaves_spacing_unknown(tmp_path):
    write_ct_series(tmp_path / "ct", n_slices=3, omit_tags=["PixelSpacing"])

    study = open_study(tmp_path / "ct")
    given = open_study(tmp_path / "ct", spacing_mm=(5.0, 0.4, 0.4))

    assert study.spacing_mm is None
    assert warnings_about(study, "PixelSpacing missing in 3 of 3")
    assert warnings_about(study, "spacing unknown")
    assert given.spacing_mm == (5.0, 0.4, 0.4)
    assert warnings_about(given, "entered by the user")


def test_missing_rescale_on_ct_uses_stored_values_as_hu(tmp_path):
    series = write_ct_series(tmp_path / "ct", n_slices=3,
                             omit_tags=["RescaleSlope", "RescaleIntercept", "RescaleType"])

    study = open_study(tmp_path / "ct")

    assert study.units is Units.HU
    np.testing.assert_array_equal(study.voxels, series.hu)
    assert warnings_about(study, "RescaleSlope/RescaleIntercept missing", "intercept 0")


def test_non_ct_with_hu_like_values_loads_as_hu_with_a_warning(tmp_path):
    write_ct_series(tmp_path / "ot", n_slices=2, modality="OT",
                    omit_tags=["RescaleSlope", "RescaleIntercept", "RescaleType"])

    study = open_study(tmp_path / "ot")

    assert study.units is Units.HU
    assert warnings_about(study, "Modality is OT", "look like Hounsfield")


def test_non_ct_with_other_values_is_not_called_hu(tmp_path):
    def drop_intercept(ds, z):
        ds.RescaleIntercept = 0  # stored values stay 0..2000-ish, nothing like HU
    write_ct_series(tmp_path / "mr", n_slices=2, modality="MR", edit=drop_intercept)

    study = open_study(tmp_path / "mr")

    assert study.units is Units.DISPLAY
    assert warnings_about(study, "Modality is MR", "do not look like Hounsfield")


def test_single_dicom_file_is_a_one_slice_study(tmp_path):
    series = write_ct_series(tmp_path / "ct", n_slices=3, shuffle=False)

    study = open_study(series.files[1])

    assert study.n_slices == 1
    np.testing.assert_array_equal(study.voxels[0], series.hu[1])
    assert study.spacing_mm == (5.0, 0.5, 0.5)
    assert warnings_about(study, "SliceThickness", "one slice")


def test_dicom_without_preamble_still_loads(tmp_path):
    series = write_ct_series(tmp_path / "ct", n_slices=2, shuffle=False)
    raw = series.files[0].read_bytes()
    stripped = tmp_path / "ct" / "IM0000.dcm"
    stripped.write_bytes(raw[132:])  # drop the preamble and 'DICM', as some old exports do

    study = open_study(tmp_path / "ct")

    np.testing.assert_array_equal(study.voxels, series.hu)


def test_slices_of_another_size_or_orientation_are_skipped(tmp_path):
    series = write_ct_series(tmp_path / "ct", n_slices=5)
    small = write_ct_series(tmp_path / "other", n_slices=1, rows=32, cols=32,
                            series_uid=series.series_uid)
    localizer = write_ct_series(tmp_path / "other", n_slices=1, orientation=(0, 1, 0, 0, 0, -1),
                                series_uid=series.series_uid, file_prefix="LOC")
    shutil.move(small.files[0], tmp_path / "ct" / "small.dcm")
    shutil.move(localizer.files[0], tmp_path / "ct" / "scout.dcm")

    study = open_study(tmp_path / "ct")

    np.testing.assert_array_equal(study.voxels, series.hu)
    assert warnings_about(study, "small.dcm", "32x32")
    assert warnings_about(study, "scout.dcm", "orientation")


def test_dicom_tree_is_searched_recursively(tmp_path):
    root = tmp_path / "CD" / "DICOM"
    axial = write_ct_series(root / "PA0" / "ST0" / "SE1", n_slices=6)
    write_ct_series(root / "PA0" / "ST0" / "SE2", n_slices=3)
    (root / "PA0" / "ST0" / "SE1" / "broken.dcm").write_bytes(b"not really")

    study = open_study(tmp_path / "CD")

    np.testing.assert_array_equal(study.voxels, axial.hu)
    assert warnings_about(study, "DICOM/PA0/ST0/SE1/broken.dcm")


def test_enhanced_multi_frame_ct_loads_like_its_single_frame_series(tmp_path):
    series = write_ct_series(tmp_path / "single", n_slices=6, shuffle=True)
    single = open_study(tmp_path / "single")
    write_enhanced_ct(tmp_path / "enhanced" / "ct.dcm", series)

    study = open_study(tmp_path / "enhanced")

    np.testing.assert_array_equal(study.voxels, series.hu)  # frames sorted by position, in HU
    assert study.units is Units.HU and study.spacing_mm == single.spacing_mm
    np.testing.assert_allclose(study.geometry.positions, single.geometry.positions)
    assert study.dicom_windows == single.dicom_windows
    assert study.warnings == ()
    # Each slice is labelled with its frame number, which is what a PACS shows.
    frame_z = [float(p.PlanePositionSequence[0].ImagePositionPatient[2]) for p in
               pydicom.dcmread(tmp_path / "enhanced" / "ct.dcm").PerFrameFunctionalGroupsSequence]
    assert [frame_z[int(label) - 1] for label in study.slice_labels] == list(study.geometry.positions[:, 2])
    assert study.geometry.frame_numbers == [int(label) for label in study.slice_labels]
    assert list_series(tmp_path / "enhanced")[0].n_slices == 6


def test_reading_reports_progress_and_stops_when_told(tmp_path):
    write_ct_series(tmp_path / "ct", n_slices=4)
    seen = []
    open_study(tmp_path / "ct", progress=lambda done, total: seen.append((done, total)))
    assert seen == [(0, 4), (1, 4), (2, 4), (3, 4)]

    class Stop(Exception):
        pass

    def stop_at_third(done, total):
        if done == 2:
            raise Stop

    with pytest.raises(Stop):
        open_study(tmp_path / "ct", progress=stop_at_third)


def test_multi_frame_file_with_inconsistent_frame_descriptions_is_skipped(tmp_path):
    series = write_ct_series(tmp_path / "ct", n_slices=3)
    enhanced = pydicom.dcmread(write_enhanced_ct(tmp_path / "other" / "enhanced.dcm", series))
    del enhanced.PerFrameFunctionalGroupsSequence[0]
    save_dataset(enhanced, tmp_path / "ct" / "enhanced.dcm")

    study = open_study(tmp_path / "ct")

    assert study.n_slices == 3
    assert warnings_about(study, "enhanced.dcm", "3 frames but 2 per-frame descriptions")


