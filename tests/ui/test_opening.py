"""Opening studies: errors, series choice, voxel size, recent list, drop, warnings.

A fake loader stands in for ich_viewer.study.loader so that the GUI's part of
the flow is tested on its own; test_sample_study.py goes through the real one.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QMessageBox

from ich_viewer.study.errors import StudyLoadError
from ich_viewer.study.model import Units
from ich_viewer.study.qc import QcKind, QcWarning
from ich_viewer.ui import opening
from ich_viewer.ui.actions import KEYED_ACTIONS
from ich_viewer.ui.dialogs import SeriesPickerDialog, ShortcutsDialog, SpacingAnswer, SpacingDialog
from ich_viewer.ui.settings import ViewerSettings
from tests.factories.viewer_studies import make_display_study, make_hu_study


def series(uid: str, n: int, modality="CT", axial=True):
    return SimpleNamespace(series_instance_uid=uid, description=f"series {uid}", modality=modality,
                           n_slices=n, rows=512, cols=512, is_axial=axial, label=f"{uid}: {n} slices")


class FakeLoader:
    StudyLoadError = StudyLoadError

    def __init__(self, study=None, series_list=(), error: StudyLoadError | None = None):
        self.study, self.series_list, self.error = study, list(series_list), error
        self.calls: list[dict] = []

    def list_series(self, path):
        if self.error:
            raise self.error
        return self.series_list

    def open_study(self, path, series_uid=None, spacing_mm=None, progress=None):
        self.calls.append(dict(path=Path(path), series_uid=series_uid, spacing_mm=spacing_mm))
        for done in range(3):  # reading three slices
            if progress:
                progress(done, 3)
        return self.study if spacing_mm is None else make_display_study(spacing_mm=spacing_mm)


@pytest.fixture
def fake_loader(monkeypatch):
    def install(**kwargs) -> FakeLoader:
        loader = FakeLoader(**kwargs)
        monkeypatch.setattr(opening, "_loader", lambda: loader)
        return loader
    return install


@pytest.fixture
def message_boxes(monkeypatch):
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text, *a, **k: shown.append(text))
    return shown


def test_a_bad_path_shows_a_message_and_the_window_stays_up(window, fake_loader, message_boxes, tmp_path):
    bad = tmp_path / "broken"
    fake_loader(error=StudyLoadError(bad / "1.dcm", "1.dcm: not a DICOM file"))
    assert window.open_study(bad) is False
    assert len(message_boxes) == 1
    assert str(bad / "1.dcm") in message_boxes[0] and "not a DICOM file" in message_boxes[0]
    assert window.isVisible() and window.study is None


def test_an_unexpected_error_is_reported_too(window, monkeypatch, message_boxes, tmp_path):
    def explode():
        raise RuntimeError("disk on fire")
    monkeypatch.setattr(opening, "_loader", lambda: SimpleNamespace(
        StudyLoadError=StudyLoadError, list_series=lambda p: explode()))
    assert window.open_study(tmp_path) is False
    assert "RuntimeError: disk on fire" in message_boxes[0]


def test_a_missing_path_through_the_real_loader_shows_a_message(window, message_boxes, tmp_path):
    pytest.importorskip("ich_viewer.study.loader", reason="the study loader is not written yet")
    assert window.open_study(tmp_path / "does-not-exist") is False
    assert str(tmp_path / "does-not-exist") in message_boxes[0]
    assert window.isVisible()


def test_opening_shows_the_study_and_remembers_it(window, fake_loader, tmp_path):
    folder = tmp_path / "patient"
    folder.mkdir()
    fake_loader(study=make_hu_study())
    assert window.open_study(folder)
    assert window.study.description == "Synthetic head CT"
    settings = ViewerSettings()
    assert settings.recent_studies() == [str(folder.resolve())]
    assert settings.last_folder == str(tmp_path.resolve())
    window._fill_recent_menu()
    assert window.recent_menu.actions()[0].text() == str(folder.resolve())


def test_warnings_are_counted_in_the_status_bar_and_listed(window, fake_loader, tmp_path):
    warnings = [QcWarning(QcKind.MISSING_SLICES, "Slice 4 missing.", ("IM0004.dcm",)),
                QcWarning(QcKind.UNEVEN_SPACING, "Uneven spacing.")]
    fake_loader(study=make_hu_study(warnings=warnings))
    window.open_study(tmp_path)
    assert window.warnings_button.isVisibleTo(window)
    assert window.warnings_button.text() == "⚠ 2 warnings"
    listed = window.study_panel.warnings
    assert [listed.item(i).text() for i in range(listed.count())] == [
        "Slice 4 missing. File: IM0004.dcm.", "Uneven spacing."]  # the reader sees which file
    window.study_dock.hide()
    window.warnings_button.click()
    assert window.study_dock.isVisible()


def test_several_series_ask_which_one_with_the_loaders_pick_preselected(window, fake_loader, monkeypatch, tmp_path):
    loader = fake_loader(study=make_hu_study(), series_list=[series("scout", 2, axial=False), series("axial", 32)])
    asked = {}

    def choose(self, series_list, default_uid):
        asked["default"] = default_uid
        return "scout"
    monkeypatch.setattr(opening.StudyOpener, "choose_series", choose)
    window.open_study(tmp_path)
    assert asked["default"] == "axial"
    assert loader.calls[-1]["series_uid"] == "scout"


def test_cancelling_the_series_picker_opens_nothing(window, fake_loader, monkeypatch, message_boxes, tmp_path):
    fake_loader(study=make_hu_study(), series_list=[series("a", 2), series("b", 3)])
    monkeypatch.setattr(opening.StudyOpener, "choose_series", lambda self, s, default_uid: None)
    assert window.open_study(tmp_path) is False
    assert window.study is None and not message_boxes


def test_series_picker_dialog_lists_labels(qtbot):
    dialog = SeriesPickerDialog([series("a", 2), series("b", 30)], default_uid="b")
    qtbot.addWidget(dialog)
    assert dialog.list.item(1).text() == "b: 30 slices"
    assert dialog.selected_uid() == "b"


def test_image_folder_asks_for_voxel_size_once(window, fake_loader, monkeypatch, tmp_path):
    loader = fake_loader(study=make_display_study())
    answers = [SpacingAnswer(True, (5.0, 0.45, 0.45))]
    monkeypatch.setattr(opening.StudyOpener, "ask_spacing", lambda self, folder: answers.pop())
    window.open_study(tmp_path)
    assert window.study.spacing_mm == (5.0, 0.45, 0.45)
    assert loader.calls[-1]["spacing_mm"] == (5.0, 0.45, 0.45)
    window.open_study(tmp_path)  # remembered: no second question (answers is empty)
    assert loader.calls[-1]["spacing_mm"] == (5.0, 0.45, 0.45)


def test_unknown_voxel_size_is_remembered_too(window, fake_loader, monkeypatch, tmp_path):
    loader = fake_loader(study=make_display_study())
    answers = [SpacingAnswer(True, None)]
    monkeypatch.setattr(opening.StudyOpener, "ask_spacing", lambda self, folder: answers.pop())
    window.open_study(tmp_path)
    window.open_study(tmp_path)
    assert window.study.spacing_mm is None and len(loader.calls) == 2
    assert ViewerSettings().has_spacing(tmp_path)


def test_spacing_dialog_defaults_to_unknown(qtbot, tmp_path):
    dialog = SpacingDialog(tmp_path)
    qtbot.addWidget(dialog)
    assert dialog.answer() == SpacingAnswer(True, None)
    dialog.unknown.setChecked(False)
    dialog.thickness.setValue(5)
    dialog.pixel.setValue(0.42)
    assert dialog.answer() == SpacingAnswer(True, (5.0, 0.42, 0.42))


def test_dropping_a_folder_opens_it(window, fake_loader, tmp_path):
    fake_loader(study=make_hu_study())
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path))])

    def event(kind):
        # QDragEnterEvent takes a QPoint, QDropEvent a QPointF (PySide6 6.11).
        pos = QPoint(10, 10) if kind is QDragEnterEvent else QPointF(10, 10)
        return kind(pos, Qt.DropAction.CopyAction, mime,
                    Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    # Qt delivers a Drop only inside a real drag, so call the handlers as Qt would.
    enter = event(QDragEnterEvent)
    window.dragEnterEvent(enter)
    assert enter.isAccepted()
    window.dropEvent(event(QDropEvent))
    assert window.study is not None
    assert ViewerSettings().recent_studies() == [str(tmp_path.resolve())]


def test_display_study_gets_a_min_max_contrast_control(qtbot, window):
    window.show_study(make_display_study())
    control = window.window_control
    assert (control.first.value(), control.second.value()) == (0, 255)
    assert window.window_label.text() == "Contrast 0–255"
    control.second.setValue(200)
    assert list(window.slice_view.image_item.getLevels()) == [0, 200]
    qtbot.keyClick(window, Qt.Key.Key_1)
    assert list(window.slice_view.image_item.getLevels()) == [0, 255]
    view = window.slice_view
    assert view.probe_at(view.scene_pos_of_pixel(3, 4)).text() == "value 123   (x 3, y 4)"
    assert window.study.units is Units.DISPLAY


def test_every_shortcut_is_an_action_and_listed_in_help(window):
    dialog = ShortcutsDialog(window)
    listed = {dialog.table.item(r, 1).text() for r in range(dialog.table.rowCount())}
    for s in KEYED_ACTIONS:
        action = window.actions_by_name[s.name]
        assert [k.toString() for k in action.shortcuts()] == list(s.keys) or s.keys_text in listed
        assert s.keys_text in listed
    dialog.deleteLater()


def test_geometry_is_saved_on_close(qtbot, window):
    # Only the height (above the window's minimum): the offscreen screen is 800 px wide,
    # narrower than the window may be.
    window.resize(window.width(), 600)
    window.close()
    from ich_viewer.ui.main_window import DEFAULT_SIZE, MainWindow

    again = MainWindow(ViewerSettings())
    qtbot.addWidget(again)
    assert again.height() == 600 != DEFAULT_SIZE[1]


def test_file_menu_open_folder_and_open_file(window, fake_loader, monkeypatch, tmp_path):
    from PySide6.QtWidgets import QFileDialog

    loader = fake_loader(study=make_hu_study())
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(tmp_path))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(tmp_path / "1.dcm"), ""))
    window.actions_by_name["open_folder"].trigger()
    window.actions_by_name["open_file"].trigger()
    assert [call["path"] for call in loader.calls] == [tmp_path, tmp_path / "1.dcm"]


class CancelledProgress:
    """A progress dialog whose Cancel the reader pressed once reading began."""

    def __init__(self):
        self.values: list[int] = []
        self.closed = False

    def setMaximum(self, total):
        self.total = total

    def setValue(self, done):
        self.values.append(done)

    def wasCanceled(self):
        return bool(self.values)

    def close(self):
        self.closed = True

    def deleteLater(self):
        pass


def test_cancelling_the_progress_dialog_opens_nothing(window, fake_loader, monkeypatch, message_boxes, tmp_path):
    fake_loader(study=make_hu_study())
    progress = CancelledProgress()
    monkeypatch.setattr(window.opener, "progress_dialog", lambda path: progress)
    assert window.open_study(tmp_path) is False
    assert progress.values == [0] and progress.total == 3 and progress.closed
    assert window.study is None and message_boxes == []
