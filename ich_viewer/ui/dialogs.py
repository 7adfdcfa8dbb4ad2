"""Small modal dialogs: pick a series, give the pixel spacing or the export window, list the shortcuts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ich_viewer.study.model import Window
from ich_viewer.ui.actions import KEYED_ACTIONS, MOUSE_GESTURES

# The HU ranges the export-window dialog accepts: any display window of a head CT.
EXPORT_LEVEL_RANGE_HU = (-1000.0, 3000.0)
EXPORT_WIDTH_RANGE_HU = (1.0, 4000.0)


def _buttons(dialog: QDialog) -> QDialogButtonBox:
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons


def series_text(info) -> str:
    """One line per series: the loader's label, else modality, description and size."""
    if getattr(info, "label", ""):
        return info.label
    return f"{info.modality} {info.description or '(no description)'} — {info.n_slices} slices"


class SeriesPickerDialog(QDialog):
    """The folder holds several series: which one to review."""

    def __init__(self, series: Sequence, default_uid: str | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Choose a series")
        self._series = list(series)
        self.list = QListWidget()
        for info in self._series:
            item = QListWidgetItem(series_text(info))
            item.setData(Qt.ItemDataRole.UserRole, info.series_instance_uid)
            self.list.addItem(item)
        uids = [info.series_instance_uid for info in self._series]
        self.list.setCurrentRow(uids.index(default_uid) if default_uid in uids else 0)
        self.list.itemDoubleClicked.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("This folder holds several series. Open:"))
        layout.addWidget(self.list)
        layout.addWidget(_buttons(self))
        self.resize(520, 300)

    def selected_uid(self) -> str:
        return self.list.currentItem().data(Qt.ItemDataRole.UserRole)

    @classmethod
    def choose(cls, series: Sequence, default_uid: str | None, parent: QWidget | None = None) -> str | None:
        """The chosen series UID, or None when the reader cancels."""
        dialog = cls(series, default_uid, parent)
        return dialog.selected_uid() if dialog.exec() == QDialog.DialogCode.Accepted else None


@dataclass(frozen=True)
class SpacingAnswer:
    accepted: bool  # False: the reader cancelled (ask again next time)
    spacing_mm: tuple[float, float, float] | None = None  # (z, y, x); None = unknown


class SpacingDialog(QDialog):
    """Image files carry no sizes: let the reader give slice thickness and pixel size, or 'unknown'."""

    def __init__(self, folder: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Voxel size")
        self.thickness = self._mm_box(5.0, 0.1, 20.0)
        self.pixel = self._mm_box(0.5, 0.05, 5.0)
        # Unknown is the default: a guessed size would silently give wrong volumes in mL.
        self.unknown = QCheckBox("Unknown (show no sizes in mm, no volumes)")
        self.unknown.toggled.connect(self._on_unknown)
        self.unknown.setChecked(True)
        form = QFormLayout()
        form.addRow("Slice thickness (mm):", self.thickness)
        form.addRow("Pixel size (mm):", self.pixel)
        text = QLabel(f"The images in <b>{folder.name}</b> carry no voxel size. "
                      "If you know it, give it; it is remembered for this folder.")
        text.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(self.unknown)
        layout.addLayout(form)
        layout.addWidget(_buttons(self))

    @staticmethod
    def _mm_box(value: float, low: float, high: float) -> QDoubleSpinBox:
        box = QDoubleSpinBox(decimals=3, minimum=low, maximum=high, singleStep=0.1, suffix=" mm")
        box.setValue(value)
        return box

    def _on_unknown(self, unknown: bool) -> None:
        self.thickness.setEnabled(not unknown)
        self.pixel.setEnabled(not unknown)

    def answer(self) -> SpacingAnswer:
        if self.unknown.isChecked():
            return SpacingAnswer(True, None)
        pixel = self.pixel.value()
        return SpacingAnswer(True, (self.thickness.value(), pixel, pixel))

    @classmethod
    def ask(cls, folder: Path, parent: QWidget | None = None) -> SpacingAnswer:
        dialog = cls(folder, parent)
        return dialog.answer() if dialog.exec() == QDialog.DialogCode.Accepted else SpacingAnswer(False)


class ExportWindowDialog(QDialog):
    """8-bit images: the HU window they were exported with, so the network reads them right."""

    def __init__(self, window: Window, note: str, parent: QWidget | None = None) -> None:
        """`window` prefills the boxes; `note` says how it is known (export_window_text)."""
        super().__init__(parent)
        self.setWindowTitle("Export window")
        self.level_box = self._hu_box(window.level, EXPORT_LEVEL_RANGE_HU)
        self.width_box = self._hu_box(window.width, EXPORT_WIDTH_RANGE_HU)
        text = QLabel("The images are 8-bit pictures of a CT already windowed. Give the window "
                      "(in HU) they were exported with, if you know it; the study is segmented again.")
        text.setWordWrap(True)
        self.note = QLabel(note)
        self.note.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Level (HU):", self.level_box)
        form.addRow("Width (HU):", self.width_box)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(self.note)
        layout.addLayout(form)
        layout.addWidget(_buttons(self))
        self.setMinimumWidth(420)  # the note on two lines, not five

    @staticmethod
    def _hu_box(value: float, limits: tuple[float, float]) -> QDoubleSpinBox:
        box = QDoubleSpinBox(decimals=0, minimum=limits[0], maximum=limits[1], singleStep=5, suffix=" HU")
        box.setValue(value)
        return box

    def chosen_window(self) -> Window:
        return Window(self.level_box.value(), self.width_box.value())

    @classmethod
    def ask(cls, window: Window, note: str, parent: QWidget | None = None) -> Window | None:
        """The window the reader gives, or None when they cancel."""
        dialog = cls(window, note, parent)
        return dialog.chosen_window() if dialog.exec() == QDialog.DialogCode.Accepted else None


class ShortcutsDialog(QDialog):
    """Help > Shortcuts: the same table the menus are built from, plus the mouse."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Shortcuts")
        rows = [(s.text.rstrip("…"), s.keys_text) for s in KEYED_ACTIONS]
        rows += [(what, gesture) for gesture, what in MOUSE_GESTURES]
        self.table = QTableWidget(len(rows), 2)
        self.table.setHorizontalHeaderLabels(["Action", "Keys / mouse"])
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        for row, (action, keys) in enumerate(rows):
            self.table.setItem(row, 0, QTableWidgetItem(action))
            self.table.setItem(row, 1, QTableWidgetItem(keys))
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(480, 560)


@dataclass(frozen=True)
class AboutFacts:
    """What Help > About shows: the program's version and the shipped network's identity."""

    version: str
    model_name: str
    model_version: str
    model_sha256: str
    model_card: str  # markdown, or a sentence saying why it is missing


def about_facts(model: str | None = None) -> AboutFacts:
    """Read (never write) the manifest of the model the viewer segments with, and the model card."""
    from ich_viewer import __version__, paths
    from ich_viewer.segmentation.model_file import DEFAULT_MODEL, ModelFileError, model_path, read_manifest

    try:
        manifest = read_manifest(model_path(model or DEFAULT_MODEL))
        name, version, sha = f"{manifest.name} ({model or 'default'})", manifest.version, manifest.sha256
    except (ModelFileError, OSError) as error:
        name, version, sha = f"not available ({error})", "—", "—"
    card = paths.models_dir() / "MODEL_CARD.md"
    try:
        text = card.read_text(encoding="utf-8")
    except OSError:
        text = f"No model card found at {card}."
    return AboutFacts(__version__, name, version, sha, text)


class AboutDialog(QDialog):
    """Help > About: version, the model's name, version and sha256, and its model card."""

    def __init__(self, facts: AboutFacts, parent: QWidget | None = None) -> None:
        from PySide6.QtWidgets import QLabel, QTextBrowser

        super().__init__(parent)
        self.setWindowTitle("About ICH Viewer")
        self.summary = QLabel(
            f"<b>ICH Viewer {facts.version}</b><br>"
            f"Model: {facts.model_name}, version {facts.model_version}<br>"
            f"sha256: <tt>{facts.model_sha256}</tt><br>"
            "For research and review; not a certified medical device.")
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary.setWordWrap(True)
        self.card = QTextBrowser()
        self.card.setMarkdown(facts.model_card)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(QLabel("Model card:"))
        layout.addWidget(self.card, 1)
        layout.addWidget(buttons)
        self.resize(720, 640)
