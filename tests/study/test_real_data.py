"""The real data: CT-ICH patients, the bundled sample, and the CT-ICH HU subset (DICOM)."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from ich_viewer import paths
from ich_viewer.study.loader import StudyLoadError, find_studies, list_series, open_study
from ich_viewer.study.model import Units


def csv_slices(ct_ich_dir, patient: int) -> list[int]:
    with open(ct_ich_dir / "hemorrhage_diagnosis.csv", newline="") as f:
        return [int(row["SliceNumber"]) for row in csv.DictReader(f)
                if int(row["PatientNumber"]) == patient]


def mask_slices(brain_dir) -> list[str]:
    return sorted((p.stem.split("_")[0] for p in brain_dir.glob("*_HGE_Seg.jpg")), key=int)


def test_ct_ich_patient_with_hemorrhage(ct_ich_dir):
    brain = ct_ich_dir / "Patients_CT" / "066" / "brain"

    study = open_study(ct_ich_dir / "Patients_CT" / "066")

    assert study.n_slices == len(csv_slices(ct_ich_dir, 66))
    assert study.voxels.shape[1:] == (650, 650)
    assert study.units is Units.DISPLAY and study.spacing_mm is None
    marked = [study.slice_labels[i] for i in range(study.n_slices) if study.reference_mask[i].any()]
    assert marked == mask_slices(brain)
    assert study.description == "CT-ICH patient 066 (brain window)"


def test_ct_ich_patient_missing_a_slice_file(ct_ich_dir):
    study = open_study(ct_ich_dir / "Patients_CT" / "049" / "brain")

    assert study.n_slices == len(csv_slices(ct_ich_dir, 49)) - 1  # 49/1 is absent
    assert study.slice_labels[0] == "2"
    assert any("Slice 1 missing" in w.text for w in study.warnings)


def test_ct_ich_root_is_a_folder_of_studies(ct_ich_dir):
    with pytest.raises(StudyLoadError, match="folder of 82 studies"):
        open_study(ct_ich_dir / "Patients_CT")
    assert len(find_studies(ct_ich_dir / "Patients_CT")) == 82


def test_bundled_sample_study_loads():
    sample = paths.sample_study_dir() / "066"

    study = open_study(sample)

    assert study.n_slices == len([p for p in (sample / "brain").glob("*.jpg")
                                  if "_HGE_Seg" not in p.name])
    assert study.reference_mask.any()


def test_hu_subset_slice_loads_as_hu(hu_subset_dir):
    study = open_study(hu_subset_dir / "images" / "066_19.dcm")

    assert study.units is Units.HU
    assert study.voxels.shape == (1, 512, 512)
    assert -1100 <= study.voxels.min() < -900  # air
    assert 1000 < study.voxels.max() < 4000  # bone
    brain = study.voxels[0, 200:300, 200:300]
    assert 0 < np.median(brain) < 80
    assert study.spacing_mm is None
    text = " ".join(str(w) for w in study.warnings)
    assert "Modality is OT" in text and "Rescale" in text and "spacing unknown" in text


def test_hu_subset_folder_lists_every_slice_as_a_series(hu_subset_dir):
    infos = list_series(hu_subset_dir / "images")
    study = open_study(hu_subset_dir / "images")

    assert len(infos) == 26 and all(info.n_slices == 1 for info in infos)
    assert len({info.label for info in infos}) == 26  # the picker can tell them apart
    assert study.units is Units.HU and study.n_slices == 1


def test_hu_subset_masks_hold_32767_and_minus_32768(hu_subset_dir):
    study = open_study(hu_subset_dir / "masks" / "066_19.dcm")

    assert set(np.unique(study.voxels)) == {-32768.0, 32767.0}
    assert study.units is Units.DISPLAY  # not Hounsfield units
