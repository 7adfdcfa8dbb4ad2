"""Opening a study from the GUI: series choice, voxel size, and errors the reader can act on.

The three questions asked of the reader (which series, what voxel size, the
error box) and the progress dialog are methods so that tests and later
features can replace them.

Reading the pixels (seconds for a large compressed series) shows a modal
progress dialog with Cancel: the window keeps repainting and the reader can
give up, instead of facing a frozen window.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QWidget

from ich_viewer.study.model import Study
from ich_viewer.ui.dialogs import SeriesPickerDialog, SpacingAnswer, SpacingDialog
from ich_viewer.ui.settings import ViewerSettings

log = logging.getLogger(__name__)


def _loader():
    # Imported on first open, not at startup: pydicom and friends are not needed to show the window.
    from ich_viewer.study import loader

    return loader


def _default_series_uid(series: list) -> str:
    """The series the loader opens when not told: preselected in the picker."""
    try:
        from ich_viewer.study.dicom_series import choose_series
    except ImportError:
        return series[0].series_instance_uid
    return choose_series(series).series_instance_uid


def study_folder(path: Path) -> Path:
    """The folder whose voxel size is remembered: the path itself, or a file's folder."""
    return path if path.is_dir() else path.parent


@contextmanager
def busy_cursor():
    QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        yield
    finally:
        QGuiApplication.restoreOverrideCursor()


class _Cancelled(Exception):
    """The reader closed a question with Cancel: open nothing, say nothing."""


class StudyOpener:
    def __init__(self, parent: QWidget, settings: ViewerSettings, before_error=None) -> None:
        self._parent = parent
        self._settings = settings
        # Called before the error box: the window takes down its "Opening …" message, which
        # would otherwise stand beside the error as if the study were still being read.
        self._before_error = before_error or (lambda: None)
        self.listed_series: list = []  # what the last open found at its path (for the Series panel)

    def open(self, path: str | Path, ask_spacing: bool = True, series_uid: str | None = None) -> Study | None:
        """Load the study at `path` (its series `series_uid`, else the one the reader picks);
        None (after telling the reader why) when it cannot be."""
        path = Path(path)
        return self._guarded(path, lambda loader: self._open(loader, path, ask_spacing, series_uid))

    def reopen_with_spacing(self, study: Study) -> Study | None:
        """Ask an image study's voxel size (again) and reopen it with the answer; None if none given."""
        path = Path(study.source)
        folder = study_folder(path)
        answer = self.ask_spacing(folder)
        if not answer.accepted:
            return None
        self._settings.remember_spacing(folder, answer.spacing_mm)
        if answer.spacing_mm is None:
            return None

        def reopen(loader) -> Study:
            return self._read(loader, path, spacing_mm=answer.spacing_mm)

        return self._guarded(path, reopen)

    def _guarded(self, path: Path, work) -> Study | None:
        """work(loader), with every failure told to the reader instead of raised."""
        try:
            loader = _loader()
        except ImportError as err:
            self.show_error(path, f"The study reader could not be loaded: {err}")
            return None
        try:
            return work(loader)
        except _Cancelled:
            return None
        except loader.StudyLoadError as err:
            self.show_error(Path(getattr(err, "path", path) or path), str(err))
        except Exception as err:
            log.exception("unexpected error opening %s", path)
            self.show_error(path, f"{type(err).__name__}: {err}")
        return None

    def _open(self, loader, path: Path, ask_spacing: bool, series_uid: str | None = None) -> Study:
        with busy_cursor():
            series = loader.list_series(path)
        if series_uid is None:
            series_uid = self._pick_series(series)
        self.listed_series = list(series)
        folder = study_folder(path)
        remembered = self._settings.has_spacing(folder)
        spacing = self._settings.spacing_for(folder) if remembered else None
        study = self._read(loader, path, series_uid=series_uid, spacing_mm=spacing)
        if study.is_hu or study.spacing_mm is not None or remembered or not ask_spacing:
            return study
        answer = self.ask_spacing(folder)
        if not answer.accepted:
            return study  # open it anyway; ask again next time
        self._settings.remember_spacing(folder, answer.spacing_mm)
        if answer.spacing_mm is None:
            return study
        # Reload rather than patch the Study: the loader owns what spacing implies.
        return self._read(loader, path, series_uid=series_uid, spacing_mm=answer.spacing_mm)

    def _read(self, loader, path: Path, **options) -> Study:
        """loader.open_study with a progress dialog; Cancel in it opens nothing."""
        dialog = self.progress_dialog(path)

        def progress(done: int, total: int) -> None:
            dialog.setMaximum(total)
            dialog.setValue(done)  # a modal dialog processes events here: the window repaints
            if dialog.wasCanceled():
                raise _Cancelled

        try:
            with busy_cursor():
                return loader.open_study(path, progress=progress, **options)
        finally:
            dialog.close()
            dialog.deleteLater()  # one dialog per read: do not pile them up under the window

    def _pick_series(self, series: list) -> str | None:
        if len(series) <= 1:
            return None  # the loader's own pick
        uid = self.choose_series(series, default_uid=_default_series_uid(series))
        if uid is None:
            raise _Cancelled
        return uid

    # -- the questions (replaceable) ----------------------------------------------------------
    def choose_series(self, series: list, default_uid: str | None) -> str | None:
        return SeriesPickerDialog.choose(series, default_uid, self._parent)

    def ask_spacing(self, folder: Path) -> SpacingAnswer:
        return SpacingDialog.ask(folder, self._parent)

    def progress_dialog(self, path: Path) -> QProgressDialog:
        dialog = QProgressDialog(f"Reading {path.name} ...", "Cancel", 0, 1, self._parent)
        dialog.setWindowTitle("Opening study")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(500)  # only shown when reading takes longer than this
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        return dialog

    def show_error(self, path: Path, message: str) -> None:
        self._before_error()
        QMessageBox.critical(self._parent, "Cannot open study", f"{path}\n\n{message}")
