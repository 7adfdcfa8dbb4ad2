"""The series browser: the Series panel, DICOMDIR in the window, and the recent-study list."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from ich_viewer.study import dicom_volume
from ich_viewer.ui import opening
from ich_viewer.ui.series_panel import NO_STUDY
from ich_viewer.ui.settings import ViewerSettings
from tests.factories.dicom import write_ct_series
from tests.factories.images import slice_image, write_image
from tests.factories.viewer_studies import make_hu_study

STUDY_DESCRIPTION = "CT head without contrast"


def _study_tags(study_uid: str, series_number: int):
    def edit(ds, z):
        ds.StudyInstanceUID = study_uid  # two series of one study, as a scanner writes them
        ds.StudyDescription = STUDY_DESCRIPTION
        ds.StudyTime, ds.StudyID = "120000", "1"  # what a DICOMDIR's STUDY record needs
        ds.SeriesNumber = series_number
    return edit


def write_two_series(folder: Path):
    """A 6-slice 5 mm series (number 2) and a 12-slice 1.25 mm series (number 3), in one folder."""
    from pydicom.uid import generate_uid

    study_uid = generate_uid()
    thick = write_ct_series(folder, n_slices=6, spacing=(5.0, 0.5, 0.5), series_description="Head 5mm",
                            file_prefix="A", edit=_study_tags(study_uid, 2))
    thin = write_ct_series(folder, n_slices=12, spacing=(1.25, 0.5, 0.5), series_description="Head thin",
                           file_prefix="B", seed=1, edit=_study_tags(study_uid, 3))
    return thick, thin


@pytest.fixture
def no_dialogs(monkeypatch):
    """The series picker answers the first series once; no folder dialog may open at all."""
    asked = []

    def choose(self, series, default_uid):
        asked.append(series)
        return series[0].series_instance_uid
    monkeypatch.setattr(opening.StudyOpener, "choose_series", choose)

    def no_folder_dialog(*args, **kwargs):
        raise AssertionError("the folder dialog was opened")
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", no_folder_dialog)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", no_folder_dialog)
    return asked


def errors_told(monkeypatch) -> list[str]:
    """The texts of the error boxes shown from now on."""
    told: list[str] = []
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text, *args: told.append(text))
    return told


def panel_rows(window) -> list[str]:
    items = window.series_panel.list
    return [items.item(i).text().replace("\u00a0", " ") for i in range(items.count())]


def current_row(window) -> int:
    return window.series_panel.list.currentRow()


def click_row(qtbot, window, row: int) -> None:
    items = window.series_panel.list
    QTest.mouseClick(items.viewport(), Qt.MouseButton.LeftButton, pos=items.visualItemRect(items.item(row)).center())


def thumbnail_grey(window, row: int, x: int, y: int) -> int:
    image = window.series_panel.list.item(row).icon().pixmap(64, 64).toImage()
    return image.pixelColor(x, y).red()


# -- the panel --------------------------------------------------------------------------------
def test_the_panel_lists_every_series_with_its_images_and_thickness(qtbot, window, no_dialogs, tmp_path):
    write_two_series(tmp_path / "ct")
    assert window.open_study(tmp_path / "ct")
    assert window.series_dock.isVisible()
    rows = panel_rows(window)
    assert rows == ["2: Head 5mm\nCT · 6 images · 5 mm", "3: Head thin\nCT · 12 images · 1.25 mm"]
    assert current_row(window) == 0 and window.series_panel.list.item(0).font().bold()
    assert not window.series_panel.list.item(1).font().bold()


def test_thumbnails_show_the_middle_slice_in_the_brain_window_decoding_one_file(
        qtbot, window, no_dialogs, monkeypatch, tmp_path):
    write_two_series(tmp_path / "ct")
    decoded = []
    real = dicom_volume.slice_values
    monkeypatch.setattr(dicom_volume, "slice_values", lambda s: decoded.append(s.path) or real(s))
    window.open_study(tmp_path / "ct")
    qtbot.waitUntil(window.series_panel.thumbnails_done)
    # The series on screen comes from the voxels in memory; the other one from one file, its middle slice.
    assert len(decoded) == 1 and decoded[0].name.startswith("B")
    for row in (0, 1):
        assert 60 < thumbnail_grey(window, row, 32, 32) < 160  # brain (30-40 HU) mid-grey in the brain window
        assert thumbnail_grey(window, row, 1, 1) < 10  # air: black
        assert thumbnail_grey(window, row, 32, 6) > 240  # skull: white


def test_clicking_another_series_opens_it_without_any_dialog(qtbot, window, no_dialogs, tmp_path):
    thick, thin = write_two_series(tmp_path / "ct")
    window.open_study(tmp_path / "ct")
    assert window.study.metadata.series_instance_uid == thick.series_uid
    click_row(qtbot, window, 1)
    qtbot.waitUntil(lambda: window.study.metadata.series_instance_uid == thin.series_uid)
    np.testing.assert_array_equal(window.study.voxels, thin.hu)
    assert len(no_dialogs) == 1  # the picker asked when the folder was opened, not again
    assert current_row(window) == 1 and window.series_panel.list.item(1).font().bold()
    assert panel_rows(window)[0].startswith("2: Head 5mm")  # the folder's list stays
    click_row(qtbot, window, 1)  # the series on screen: nothing happens
    QTest.qWait(20)
    assert window.study.metadata.series_instance_uid == thin.series_uid


def test_a_series_that_cannot_be_opened_leaves_the_highlight_on_the_one_on_screen(
        qtbot, window, no_dialogs, monkeypatch, tmp_path):
    message_boxes = errors_told(monkeypatch)
    thick, thin = write_two_series(tmp_path / "ct")
    window.open_study(tmp_path / "ct")
    for path in thin.files:
        path.unlink()
    click_row(qtbot, window, 1)
    qtbot.waitUntil(lambda: bool(message_boxes))
    assert thin.series_uid in message_boxes[0]  # the loader says the series is not there any more
    assert window.study.metadata.series_instance_uid == thick.series_uid
    qtbot.waitUntil(lambda: current_row(window) == 0)


def test_an_image_folder_is_one_entry_and_no_study_says_so(qtbot, window, tmp_path):
    assert window.series_panel.summary.text() == NO_STUDY
    assert not window.series_panel.list.isVisibleTo(window)
    for number in range(1, 6):
        write_image(tmp_path / "jpg" / f"{number}.jpg", slice_image(number))
    assert window.open_study(tmp_path / "jpg", ask_spacing=False)
    assert panel_rows(window) == ["Images jpg\n5 images"]
    assert current_row(window) == 0
    qtbot.waitUntil(window.series_panel.thumbnails_done)
    assert not window.series_panel.list.item(0).icon().isNull()


def test_a_study_put_on_screen_directly_is_its_own_entry(window):
    window.show_study(make_hu_study())
    assert panel_rows(window) == ["Synthetic head CT\n20 images · 5 mm"]
    assert current_row(window) == 0


# -- DICOMDIR -----------------------------------------------------------------------------------
def write_dicomdir(tmp_path: Path) -> tuple[Path, tuple]:
    from pydicom.fileset import FileSet

    written = write_two_series(tmp_path / "export")
    file_set = FileSet()
    for series in written:
        for path in series.files:
            file_set.add(path)
    file_set.write(tmp_path / "cd")
    return tmp_path / "cd" / "DICOMDIR", written


def test_a_dicomdir_opens_the_series_it_lists(qtbot, window, no_dialogs, tmp_path):
    dicomdir, (thick, thin) = write_dicomdir(tmp_path)
    # A stray series beside it, not in the DICOMDIR: not read (no blind scan).
    write_ct_series(dicomdir.parent / "stray", n_slices=2, series_description="Stray")
    assert window.open_study(dicomdir)
    np.testing.assert_array_equal(window.study.voxels, thick.hu)
    assert [row.split("\n")[0] for row in panel_rows(window)] == ["2: Head 5mm", "3: Head thin"]
    click_row(qtbot, window, 1)
    qtbot.waitUntil(lambda: window.study.metadata.series_instance_uid == thin.series_uid)
    assert window.study.n_slices == 12
    assert window.open_study(dicomdir.parent)  # the folder holding it: the same two series
    assert len(panel_rows(window)) == 2


def test_a_dicomdir_listing_a_missing_file_names_it(window, no_dialogs, monkeypatch, tmp_path):
    message_boxes = errors_told(monkeypatch)
    dicomdir, _ = write_dicomdir(tmp_path)
    missing = next((dicomdir.parent / "PT000000" / "ST000000").rglob("IM*"))
    missing.unlink()
    assert window.open_study(dicomdir)
    listed = missing.relative_to(dicomdir.parent).as_posix()
    warnings = [str(w) for w in window.study.warnings]
    assert any(listed in w and "listed in the DICOMDIR, but the file is missing" in w for w in warnings)
    for path in dicomdir.parent.rglob("IM*"):
        path.unlink()
    assert not window.open_study(dicomdir)
    assert "listed in the DICOMDIR, but the file is missing" in message_boxes[0] and listed in message_boxes[0]


# -- recent studies ---------------------------------------------------------------------------
def recent_entries(window) -> list:
    window._fill_recent_menu()
    return [a for a in window.recent_menu.actions() if not a.isSeparator()][:-1]  # without "Clear list"


def test_the_recent_menu_shows_patient_date_and_description_with_the_path_as_tooltip(
        window, no_dialogs, tmp_path):
    write_two_series(tmp_path / "ct")
    window.open_study(tmp_path / "ct")
    (entry,) = recent_entries(window)
    assert entry.text() == f"Phantom, Head — 2024-01-01 — {STUDY_DESCRIPTION} (CT, 6 images)"
    assert entry.toolTip() == str((tmp_path / "ct").resolve())


def test_the_recent_menu_hides_the_name_when_the_screen_is_anonymised(window, no_dialogs, tmp_path):
    write_two_series(tmp_path / "ct")
    window.open_study(tmp_path / "ct")
    window.actions_by_name["anonymise_screen"].trigger()
    assert window.settings.anonymise_screen
    (entry,) = recent_entries(window)
    assert "Phantom" not in entry.text() and "PHANTOM" not in entry.text()
    assert entry.text() == f"2024-01-01 — {STUDY_DESCRIPTION} (CT, 6 images)"


def test_an_entry_kept_as_a_bare_path_still_shows_and_opens(window, no_dialogs, tmp_path):
    thick, _ = write_two_series(tmp_path / "ct")
    old = str((tmp_path / "ct").resolve())
    store = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "ICH Viewer", "ICH Viewer")
    store.setValue("recent_studies", [old])  # as written before the records
    store.sync()
    (entry,) = recent_entries(window)
    assert entry.text() == old
    entry.trigger()
    assert window.study.metadata.series_instance_uid == thick.series_uid
    assert ViewerSettings().recent_records()[0].patient_name == "Phantom^Head"  # now with its record
