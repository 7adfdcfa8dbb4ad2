"""Key-image PNGs and the per-slice CSV."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from ich_viewer.analysis import compute_findings
from ich_viewer.atomic import ExportError
from ich_viewer.export.csv import export_findings_csv, findings_csv_text
from ich_viewer.export.png import export_key_images
from ich_viewer.rendering import HEMORRHAGE_RED
from tests.factories.synthetic_ct import display_study, hematoma_phantom, memory_dicom_study


def test_key_images_are_written_for_the_largest_slices(tmp_path):
    import cv2

    volume, mask = hematoma_phantom(n_slices=8, size=64)
    study = memory_dicom_study(volume)
    paths = export_key_images(study, mask, tmp_path / "keys")
    assert [p.name for p in paths] == [f"key_image_{z + 1}.png" for z in (2, 3, 4, 5)]
    image = cv2.imread(str(paths[1]))  # BGR
    assert image.shape == (64, 64, 3)
    assert ((image == HEMORRHAGE_RED[::-1]).all(axis=-1)).any()  # red, once channels are swapped


def test_key_images_need_a_folder(tmp_path):
    volume, mask = hematoma_phantom(n_slices=4, size=32)
    (tmp_path / "keys").write_text("a file")
    with pytest.raises(ExportError, match="is a file, not a folder"):
        export_key_images(memory_dicom_study(volume), mask, tmp_path / "keys")


def box_study():
    mask = np.zeros((4, 32, 32), bool)
    mask[1:3, 5:15, 5:25] = True  # 200 px on slices 1 and 2
    reference = np.zeros_like(mask)
    reference[2, 5:15, 5:25] = True
    study = memory_dicom_study(np.zeros((4, 32, 32), np.int16), spacing=(5.0, 0.5, 0.5))
    study.slice_labels = ["11", "12", "13", "14"]
    return study, compute_findings(mask, study.spacing_mm, reference_mask=reference)


def test_csv_rows_and_totals():
    study, findings = box_study()
    rows = list(csv.reader(io.StringIO(findings_csv_text(study, findings))))
    assert rows[0] == ["slice_index", "slice_label", "area_px", "area_cm2", "volume_ml", "reference_dice"]
    # 200 px x 0.25 mm2 = 0.5 cm2; x 0.5 cm thickness = 0.25 mL
    assert rows[2] == ["1", "12", "200", "0.5000", "0.2500", "0.0000"]
    assert rows[3] == ["2", "13", "200", "0.5000", "0.2500", "1.0000"]
    assert rows[1] == ["0", "11", "0", "0.0000", "0.0000", ""]  # both empty: no Dice
    assert rows[-1] == ["total", "", "400", "", "0.5000", "0.6667"]


def test_csv_without_spacing_leaves_physical_cells_empty(tmp_path):
    volume, mask = hematoma_phantom(n_slices=4, size=32)
    study = display_study(volume)
    findings = compute_findings(mask, None)
    path = export_findings_csv(study, findings, tmp_path / "areas.csv")
    rows = list(csv.reader(path.open(encoding="utf-8")))
    assert all(row[3] == row[4] == "" for row in rows[1:])
    assert rows[-1][:3] == ["total", "", str(int(mask.sum()))]


def test_the_lesion_csv_lists_each_lesion_largest_first_then_the_total(tmp_path):
    from ich_viewer.export.csv import LESION_COLUMNS, export_lesions_csv
    from ich_viewer.study.model import Study, Units

    mask = np.zeros((5, 40, 40), bool)
    mask[1:4, 5:15, 5:15] = True  # 300 voxels
    mask[2, 25:30, 25:35] = True  # 50 voxels, apart
    (tmp_path / "study").mkdir()
    study = Study(np.zeros(mask.shape, np.float32), Units.DISPLAY, (5.0, 1.0, 1.0), tmp_path / "study")
    findings = compute_findings(mask, study.spacing_mm)
    rows = list(csv.reader(export_lesions_csv(study, findings, tmp_path / "out" / "lesions.csv").open()))
    assert tuple(rows[0]) == LESION_COLUMNS
    assert [row[0] for row in rows[1:]] == ["1", "2", "total"]
    assert rows[1][5] == "300" and rows[1][6] == "1.5000" and rows[2][5] == "50"
    assert rows[3][5] == "350" and rows[3][6] == "1.7500"
