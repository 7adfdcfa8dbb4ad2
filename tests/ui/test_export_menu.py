"""File > Export: the report and every export written where the reader chose, with the edited mask;
problems in a message box; every shortcut listed in Help without clashes."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from ich_viewer.ui.actions import KEYED_ACTIONS, MOUSE_GESTURES
from ich_viewer.ui.dialogs import ShortcutsDialog
from ich_viewer.ui.settings import ViewerSettings
from tests.factories.synthetic_ct import write_dicom_study
from tests.factories.viewer_studies import known_mask, make_display_study, make_hu_study
from tests.ui.ui_support import mouse_drag


@pytest.fixture
def save_dialog(monkeypatch, tmp_path):
    """The save dialog answers with the suggested file name, in tmp_path/out; what it was asked is kept."""
    asked: list[str] = []
    out = tmp_path / "out"

    def answer(parent, title, suggested, file_filter):
        asked.append(suggested)
        return str(out / Path(suggested).name), file_filter

    monkeypatch.setattr(QFileDialog, "getSaveFileName", answer)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(out / "key_images"))
    return SimpleNamespace(out=out, asked=asked)


@pytest.fixture
def errors(monkeypatch):
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text, *a, **k: shown.append(text))
    return shown


def test_report_and_anonymised_report_are_written(segmented, save_dialog, errors):
    win = segmented(make_hu_study(), mask_of=known_mask)
    win.actions_by_name["export_report"].trigger()
    report = save_dialog.out / "hu_ich_report.pdf"
    assert report.read_bytes().startswith(b"%PDF") and not errors
    assert f"Report written to {report}" in win.statusBar().currentMessage()
    win.actions_by_name["export_anonymised_report"].trigger()
    assert Path(save_dialog.asked[-1]).name == "anonymised_ich_report.pdf"  # no folder name in it
    assert (save_dialog.out / "anonymised_ich_report.pdf").exists()
    # The next dialog starts where the last export went, never in the study's folder.
    assert ViewerSettings().export_folder == str(save_dialog.out)


def test_mask_image_csv_and_key_images_use_the_edited_mask(qtbot, segmented, save_dialog, errors):
    import nibabel as nib

    win = segmented(make_hu_study(), mask_of=known_mask)
    win.slice_view.set_slice(12)
    qtbot.keyClick(win, Qt.Key.Key_B)
    view = win.slice_view
    points = [view.graphics.mapFromScene(view.scene_pos_of_pixel(x, 20)).toPointF() for x in (20, 40)]
    mouse_drag(view.graphics.viewport(), Qt.MouseButton.LeftButton, points)
    edited = win.review.mask
    assert edited.sum() > win.review.result.mask.sum()

    for name in ("export_mask_nifti", "export_image_nifti", "export_csv", "export_key_images"):
        win.actions_by_name[name].trigger()
    assert not errors
    mask = np.asarray(nib.load(save_dialog.out / "hu_hemorrhage_mask.nii.gz").dataobj)
    assert mask.sum() == edited.sum()
    assert mask.transpose(2, 1, 0)[12].any()  # the slice the reader painted
    assert (save_dialog.out / "hu_ct.nii.gz").exists()
    csv_rows = (save_dialog.out / "hu_per_slice.csv").read_text().splitlines()
    assert csv_rows[1 + 12].split(",")[2] == str(int(edited[12].sum()))
    key_images = sorted((save_dialog.out / "key_images").glob("*.png"))
    assert "key_image_112.png" in [p.name for p in key_images]


def test_dicom_seg_is_offered_for_dicom_studies_only(segmented, save_dialog, errors, tmp_path):
    hu = segmented(make_hu_study(), mask_of=known_mask)
    assert not hu.actions_by_name["export_dicom_seg"].isEnabled()
    study, bleed = write_dicom_study(tmp_path / "dicom")
    dicom = segmented(study, mask_of=lambda s: bleed)
    action = dicom.actions_by_name["export_dicom_seg"]
    assert action.isEnabled()
    action.trigger()
    assert not errors
    assert (save_dialog.out / "dicom_hemorrhage_seg.dcm").read_bytes()[128:132] == b"DICM"


def test_an_export_problem_is_told_in_a_message_box(segmented, save_dialog, errors):
    mask = np.zeros((6, 40, 50), bool)
    mask[2, 10:20, 10:20] = True
    win = segmented(make_display_study(), mask_of=lambda study: mask)
    win.actions_by_name["export_mask_nifti"].trigger()  # 8-bit images without a voxel size
    assert len(errors) == 1 and "voxel spacing of this study is unknown" in errors[0]
    assert win.isVisible() and not (save_dialog.out / "jpg_hemorrhage_mask.nii.gz").exists()


def test_exports_wait_for_a_segmentation(window):
    window.show_study(make_hu_study())  # automatic segmentation is off in this fixture
    a = window.actions_by_name
    assert not a["export_report"].isEnabled() and not a["export_mask_nifti"].isEnabled()
    assert a["export_image_nifti"].isEnabled()  # the images alone need no segmentation


def test_every_new_shortcut_is_listed_in_help_and_no_key_does_two_things(window):
    dialog = ShortcutsDialog(window)
    listed = {dialog.table.item(r, 1).text() for r in range(dialog.table.rowCount())}
    for keys in ("S", "H", "N", "P", "B", "E", "[", "]", "Ctrl+Z", "Ctrl+Shift+Z, Ctrl+Y", "Ctrl+E"):
        assert keys in listed
    assert {gesture for gesture, _ in MOUSE_GESTURES} <= listed
    dialog.deleteLater()
    every_key = [key.upper() for s in KEYED_ACTIONS for key in s.keys]
    assert len(every_key) == len(set(every_key)), "a key is bound to two actions"
