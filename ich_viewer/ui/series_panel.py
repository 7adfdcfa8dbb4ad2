"""The Series panel: every series of the folder the study came from, with a thumbnail; a click opens one.

The list comes from the header pass the opener makes anyway (loader.list_series).
Thumbnails are made lazily, one per turn of the event loop, each from the one
file of its series' middle slice (study/preview.py): the window keeps
answering while they come in, and no series is read whole. The series on
screen takes its thumbnail from the voxels already in memory.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QIcon, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from ich_viewer.rendering import window_to_uint8
from ich_viewer.study.model import Study, Window
from ich_viewer.study.preview import PreviewProblem, series_preview, slice_preview
from ich_viewer.study.series import SeriesInfo

THUMBNAIL_PX = 64
PANEL_WIDTH = 270  # a thumbnail and "CT · 60 images · 1.25 mm": narrower than the right-hand panels
NBSP = "\u00a0"  # keeps "5 mm" and "24 images" on one line when the text wraps
PLACEHOLDER_GREY = 40
UID_ROLE = Qt.ItemDataRole.UserRole
NO_STUDY = "No study open.\nFile ▸ Open folder… lists its series here."


def thumbnail(values: np.ndarray, window: Window, size: int = THUMBNAIL_PX) -> QPixmap:
    """A square icon: the slice windowed to grey, centred on black, its aspect kept."""
    gray = np.ascontiguousarray(window_to_uint8(values, window))
    rows, cols = gray.shape
    image = QImage(gray.data, cols, rows, cols, QImage.Format.Format_Grayscale8)
    scaled = image.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                          Qt.TransformationMode.SmoothTransformation)
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.black)
    painter = QPainter(pixmap)
    painter.drawImage((size - scaled.width()) // 2, (size - scaled.height()) // 2, scaled)
    painter.end()
    return pixmap


def untinted(pixmap: QPixmap) -> QIcon:
    """An icon that looks the same selected: Qt would tint the highlighted series' picture blue."""
    icon = QIcon(pixmap)
    icon.addPixmap(pixmap, QIcon.Mode.Selected)
    return icon


def placeholder(mark: str = "", size: int = THUMBNAIL_PX) -> QPixmap:
    """A dark square while the thumbnail is made ("" ) or when it cannot be ("?")."""
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(PLACEHOLDER_GREY, PLACEHOLDER_GREY, PLACEHOLDER_GREY))
    if mark:
        painter = QPainter(pixmap)
        painter.setPen(QColor(160, 160, 160))
        painter.drawText(pixmap.rect(), Qt.AlignmentFlag.AlignCenter, mark)
        painter.end()
    return pixmap


def series_title(info: SeriesInfo) -> str:
    """First line: "3: Head 5mm" (the series number, then its description)."""
    description = info.description or "(no description)"
    return f"{info.series_number}: {description}" if info.series_number else description


def series_facts(info: SeriesInfo) -> str:
    """Second line: modality, number of images, slice thickness ("CT · 32 images · 5 mm")."""
    images = f"{info.n_slices}{NBSP}image{'s' if info.n_slices != 1 else ''}"
    thickness = f"{info.slice_thickness_mm:g}{NBSP}mm" if info.slice_thickness_mm else ""
    return " · ".join(p for p in (info.modality, images, thickness) if p)


def study_as_series(study: Study) -> SeriesInfo:
    """The study on screen as the one entry, when the panel knows nothing of its folder."""
    meta = study.metadata
    thickness = meta.slice_thickness_mm
    if thickness is None and study.spacing_mm is not None:
        thickness = study.spacing_mm[0]
    _, rows, cols = study.voxels.shape
    description = meta.series_description or study.description or study.source.name
    return SeriesInfo(meta.series_instance_uid, description, meta.modality, study.n_slices, rows, cols,
                      True, description, meta.series_number, thickness)


class SeriesPanel(QWidget):
    """The series of the current study's folder; the one on screen is highlighted.

    open_series(source, series_uid) opens another series of that folder (the window's
    open path, without the folder dialog) and returns whether it did.
    """

    def __init__(self, open_series: Callable[[Path, str], bool], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._open_series = open_series
        self.summary = QLabel(NO_STUDY)
        self.summary.setWordWrap(True)
        self.summary.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)  # alone: at the top
        self.list = QListWidget()
        self.list.setIconSize(QSize(THUMBNAIL_PX, THUMBNAIL_PX))
        self.list.setWordWrap(True)
        self.list.setSpacing(2)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.itemClicked.connect(self._on_chosen)
        self.list.itemActivated.connect(self._on_chosen)  # Enter on the keyboard
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.list, 1)
        self.source: Path | None = None  # the folder (or file) the listed series were found at
        self.current_uid: str | None = None
        self._listed: tuple[Path, list[SeriesInfo]] | None = None
        self._series: list[SeriesInfo] = []
        self._icons: dict[tuple, QIcon] = {}  # made thumbnails, kept while the folder stays the same
        self._pending: list[int] = []
        self._thumbnail_timer = QTimer(self, singleShot=True, interval=0)
        self._thumbnail_timer.timeout.connect(self._make_next_thumbnail)
        self.list.setVisible(False)

    def sizeHint(self) -> QSize:  # noqa: N802  Qt's name: the dock opens this wide
        return QSize(PANEL_WIDTH, super().sizeHint().height())

    # -- what is shown ------------------------------------------------------------------------
    def set_series(self, source: Path, series: list[SeriesInfo]) -> None:
        """What `source` holds, as the opener listed it; shown when its study comes on screen."""
        self._listed = (Path(source), list(series))

    def show_study(self, study: Study | None) -> None:
        """The study on screen: its folder's series with it highlighted, else the study alone."""
        if study is None:
            self._show(None, [], None)
            return
        uid = study.metadata.series_instance_uid
        listed = self._listed
        if listed is not None and _same_path(listed[0], study.source) and uid in _uids(listed[1]):
            self._show(listed[0], listed[1], uid, study)
        else:
            self._listed = None
            self._show(None, [study_as_series(study)], uid, study)

    def _show(self, source: Path | None, series: list[SeriesInfo], current_uid: str | None,
              study: Study | None = None) -> None:
        same_folder = source is not None and self.source is not None and _same_path(source, self.source)
        if not same_folder:
            self._icons.clear()  # another folder (or a study alone): its thumbnails are other pictures
        if not (same_folder and _uids(series) == _uids(self._series)):
            self._fill(series)  # else another series of the same folder: only the highlight moves
        self.source, self._series, self.current_uid = source, series, current_uid
        self._highlight_current(study)
        self._show_summary()

    def _fill(self, series: list[SeriesInfo]) -> None:
        self._thumbnail_timer.stop()
        self.list.clear()
        self._pending = []
        for row, info in enumerate(series):
            item = QListWidgetItem(f"{series_title(info)}\n{series_facts(info)}")
            item.setData(UID_ROLE, info.series_instance_uid)
            item.setToolTip(info.label)
            item.setIcon(self._icons.get(_icon_key(info)) or untinted(placeholder()))
            self.list.addItem(item)
            if _icon_key(info) not in self._icons:
                self._pending.append(row)
        self.list.setVisible(bool(series))

    def _highlight_current(self, study: Study | None) -> None:
        font = self.list.font()
        for row in range(self.list.count()):
            item = self.list.item(row)
            current = item.data(UID_ROLE) == self.current_uid
            bold = QFont(font)
            bold.setBold(current)
            item.setFont(bold)
            if current:
                self.list.setCurrentItem(item)
                if study is not None:  # its pixels are in memory: no file to decode
                    self._set_icon(row, _study_thumbnail(study))
        self._thumbnail_timer.start()

    def _show_summary(self) -> None:
        n = len(self._series)
        if n == 0:
            self.summary.setText(NO_STUDY)
        elif self.source is None:
            self.summary.setText("1 series (the study on screen)")
        else:
            self.summary.setText(f"{n} series here; click one to open it" if n > 1 else "1 series here")

    # -- thumbnails ---------------------------------------------------------------------------
    def _make_next_thumbnail(self) -> None:
        while self._pending:
            row = self._pending.pop(0)
            if row >= len(self._series) or _icon_key(self._series[row]) in self._icons:
                continue
            info = self._series[row]
            try:
                values, window = series_preview(info)
                icon, problem = untinted(thumbnail(values, window)), ""
            except PreviewProblem as error:
                icon, problem = untinted(placeholder("?")), f"\nNo thumbnail: {error}"
            self._icons[_icon_key(info)] = icon
            item = self.list.item(row)
            item.setIcon(icon)
            item.setToolTip(info.label + problem)
            break
        if self._pending:
            self._thumbnail_timer.start()  # the next one after the events waiting now

    def _set_icon(self, row: int, pixmap: QPixmap) -> None:
        icon = untinted(pixmap)
        self._icons[_icon_key(self._series[row])] = icon
        self.list.item(row).setIcon(icon)

    def thumbnails_done(self) -> bool:
        return not self._pending

    # -- choosing -----------------------------------------------------------------------------
    def _on_chosen(self, item: QListWidgetItem) -> None:
        uid = item.data(UID_ROLE)
        if self.source is None or uid == self.current_uid:
            return
        # After this click's signal: opening rebuilds the list whose item was clicked.
        source = self.source
        QTimer.singleShot(0, self, lambda: self._open(source, uid))

    def _open(self, source: Path, uid: str) -> None:
        if not self._open_series(source, uid):
            self._highlight_current(None)  # not opened (cancelled, or an error told): back to the one on screen


def _study_thumbnail(study: Study) -> QPixmap:
    values, window = slice_preview(study.voxels[study.n_slices // 2], hu=study.is_hu)
    return thumbnail(values, window)


def _icon_key(info: SeriesInfo) -> tuple:
    return info.series_instance_uid, str(info.preview_file), info.preview_frame


def _uids(series: list[SeriesInfo]) -> list[str]:
    return [info.series_instance_uid for info in series]


def _same_path(a: Path, b: Path) -> bool:
    return Path(a).resolve() == Path(b).resolve()
