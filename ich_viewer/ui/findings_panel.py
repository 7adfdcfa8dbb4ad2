"""The Findings panel: what the model found, in the radiologist's words, and where.

It only shows a HemorrhageFindings (computed in ich_viewer.analysis) and the
reader's edit summary: detected or not with the confidence in words and the
score beside it, the number of lesions, the total volume (or why there is
none), slices involved, largest axial area, the lesion list (click to show a
lesion; accept or reject it with one click), a per-slice area plot and the
list of slices with hemorrhage. A standing notice says what the model may
miss. Agreement with a reference outline (Dice) is a research figure: it is
only in the "Compare with reference" section, hidden unless the reader asks.
"""

from __future__ import annotations

import math
from typing import ClassVar

import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ich_viewer.analysis import HemorrhageFindings, Lesion, MaskEdits
from ich_viewer.report import formatting as fmt
from ich_viewer.segmentation.result import ModelInfo
from ich_viewer.study.model import Study
from ich_viewer.ui.overlay import MODEL_COLOUR
from ich_viewer.ui.panels import value_label

MIN_SLICES_FOR_PLOT = 3  # one or two bars say nothing the slice list does not
NO_SPACING = "not available — enter the voxel size"
PLOT_HEIGHT = 150
BAR_WIDTH = 0.8
CURRENT_SLICE_PEN = pg.mkPen((255, 215, 0), width=1.5)  # yellow: apart from the red bars


class AreaPlot(pg.PlotWidget):
    """Hemorrhage area per slice as bars (x = slice position 1..n), with the current slice marked."""

    slice_clicked = Signal(int)
    slice_hovered = Signal(int)  # the slice under the cursor (-1 off the bars)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFixedHeight(PLOT_HEIGHT)
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)  # a click picks a slice; nothing to pan here
        self.hideButtons()
        self.setLabel("bottom", "Slice")
        self.bars = pg.BarGraphItem(x=[], height=[], width=BAR_WIDTH, brush=pg.mkBrush(*MODEL_COLOUR),
                                    pen=pg.mkPen(None))
        self.addItem(self.bars)
        self.marker = pg.InfiniteLine(angle=90, movable=False, pen=CURRENT_SLICE_PEN)
        self.addItem(self.marker)
        self._n_slices = 0
        self.scene().sigMouseClicked.connect(self._on_click)
        self.scene().sigMouseMoved.connect(self._on_move)

    def show_areas(self, areas, unit: str) -> None:
        self._n_slices = len(areas)
        positions = list(range(1, self._n_slices + 1))
        self.bars.setOpts(x=positions, height=list(areas))
        self.setLabel("left", f"Area ({unit})")
        top = max(max(areas, default=0), 1e-9)
        self.setXRange(0.5, self._n_slices + 0.5, padding=0)
        self.setYRange(0, top * 1.1, padding=0)

    def show_current_slice(self, z: int) -> None:
        self.marker.setValue(z + 1)

    def scene_pos_of_slice(self, z: int) -> QPointF:
        """Scene position of the middle of slice z's column (for tests)."""
        _, (low, high) = self.viewRange()
        return self.plotItem.vb.mapViewToScene(QPointF(z + 1, (low + high) / 2))

    def slice_at(self, scene_pos: QPointF) -> int:
        """The slice whose bar is under a scene position, or -1."""
        view_box = self.plotItem.vb
        if not view_box.sceneBoundingRect().contains(scene_pos):
            return -1
        z = round(view_box.mapSceneToView(scene_pos).x()) - 1
        return z if 0 <= z < self._n_slices else -1

    def _on_click(self, event) -> None:
        z = self.slice_at(event.scenePos())
        if z >= 0:
            event.accept()
            self.slice_clicked.emit(z)

    def _on_move(self, scene_pos: QPointF) -> None:
        self.slice_hovered.emit(self.slice_at(scene_pos))


def _wrapped(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)  # the panel may be narrow: wrap rather than widen it
    return label


class LesionTable(QTableWidget):
    """One row per lesion, largest first: number, side, slices, volume, ABC/2, and accept / reject."""

    COLUMNS = ("#", "Side", "Slices", "Volume", "ABC/2", "")
    lesion_clicked = Signal(int)  # lesion number
    accept_clicked = Signal(int)
    reject_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(self.COLUMNS), parent)
        self.setHorizontalHeaderLabels(self.COLUMNS)
        self.verticalHeader().hide()
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setWordWrap(True)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(self.COLUMNS.index("ABC/2"), QHeaderView.ResizeMode.Stretch)
        self.setToolTip("Click a lesion to show its largest slice; ✓ accepts it, ✗ erases it (an edit)")
        self.cellClicked.connect(lambda row, _column: self._clicked(row))
        self._numbers: list[int] = []

    def show_lesions(self, study: Study, lesions: list[Lesion], accepted: set[int]) -> None:
        self.setRowCount(len(lesions))
        self._numbers = [lesion.number for lesion in lesions]
        for row, lesion in enumerate(lesions):
            cells = (str(lesion.number), fmt.lesion_location(lesion), fmt.lesion_slices_text(study, lesion),
                     fmt.lesion_volume_text(lesion), _abc2_cell(lesion))
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(fmt.lesion_summary(study, lesion))
                self.setItem(row, column, item)
            self.setCellWidget(row, len(cells), self._buttons(lesion.number, lesion.number in accepted))
        self.resizeRowsToContents()
        self.setFixedHeight(self._height_for(len(lesions)))

    def _height_for(self, rows: int) -> float:
        shown = max(1, min(rows, 5))  # up to five rows without scrolling
        row_height = self.rowHeight(0) if rows else 24
        return self.horizontalHeader().height() + shown * row_height + 4

    def _buttons(self, number: int, accepted: bool) -> QWidget:
        box = QWidget()
        layout = QHBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        accept = QToolButton(text="✓", toolTip=f"Accept lesion {number}", checkable=True, checked=accepted)
        accept.setObjectName(f"accept_{number}")
        accept.clicked.connect(lambda _checked=False: self.accept_clicked.emit(number))
        reject = QToolButton(text="✗", toolTip=f"Reject lesion {number}: erase it from the outline (undo: Ctrl+Z)")
        reject.setObjectName(f"reject_{number}")
        reject.clicked.connect(lambda _checked=False: self.reject_clicked.emit(number))
        layout.addWidget(accept)
        layout.addWidget(reject)
        return box

    def _clicked(self, row: int) -> None:
        if 0 <= row < len(self._numbers):
            self.lesion_clicked.emit(self._numbers[row])


def _abc2_cell(lesion: Lesion) -> str:
    if lesion.abc2_ml is not None:
        return fmt.format_ml(lesion.abc2_ml)
    if lesion.abc2_axes_mm is not None:
        return "not valid (crescent / thin layer)"  # the full reason is in the tooltip
    return "—"


class ReferenceComparison(QGroupBox):
    """Research figures, apart from the clinical findings: Dice with the reference, per slice."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Compare with reference (research, not a finding)", parent)
        self.summary = value_label()
        self.slice_list = QListWidget()
        self.slice_list.setMaximumHeight(140)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.slice_list)

    def show_findings(self, study: Study, findings: HemorrhageFindings) -> None:
        self.summary.setText(f"Model vs the reference mask supplied with the images: {fmt.reference_text(findings)}")
        self.slice_list.clear()
        for z, text in _dice_rows(study, findings):
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, z)
            self.slice_list.addItem(item)
        if not self.slice_list.count():
            self.slice_list.addItem("(no slice outlined by either)")


class FindingsPanel(QWidget):
    """Shows one HemorrhageFindings; asks for slices and lesions (clicks) and for the voxel size (button)."""

    slice_requested = Signal(int)
    spacing_requested = Signal()
    lesion_requested = Signal(int)  # lesion number: show it
    lesion_accepted = Signal(int)
    lesion_rejected = Signal(int)

    ROWS = ("Hemorrhage", "Lesions", "Volume", "Slices involved", "Largest area", "Edited", "Model")
    LABELS: ClassVar[dict[str, str]] = {"Volume": "Total volume"}

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.values = {name: value_label() for name in self.ROWS}
        self.spacing_button = QPushButton("Enter voxel size…")
        self.spacing_button.setToolTip("Give slice thickness and pixel size to measure in mL and cm²")
        self.spacing_button.clicked.connect(self.spacing_requested)
        self.notice = _wrapped(fmt.MISSED_BLEEDS_NOTICE)
        self.notice.setStyleSheet("color: #c9a227;")  # the report's notice colour: it stands out, calmly
        self.lesion_table = LesionTable()
        self.lesion_table.lesion_clicked.connect(self.lesion_requested)
        self.lesion_table.accept_clicked.connect(self.lesion_accepted)
        self.lesion_table.reject_clicked.connect(self.lesion_rejected)
        self.plot = AreaPlot()
        self.plot.slice_clicked.connect(self.slice_requested)
        self.plot.slice_hovered.connect(self._on_bar_hovered)
        # The plot replaces the long list of affected slices: one line says the current slice's area.
        self.slice_readout = _wrapped("")
        self._slice_texts: list[str] = []
        self.comparison = ReferenceComparison()
        self.comparison.slice_list.itemClicked.connect(self._on_item)
        self.comparing = False
        self.form = QFormLayout()
        self._build_layout()
        self.show_message("No study open.")

    def _build_layout(self) -> None:
        volume = QVBoxLayout()  # the button under the text: side by side, both got too narrow
        volume.setContentsMargins(0, 0, 0, 0)
        volume.addWidget(self.values["Volume"])
        volume.addWidget(self.spacing_button, 0, Qt.AlignmentFlag.AlignLeft)
        for name in self.ROWS:
            self.form.addRow(f"{self.LABELS.get(name, name)}:", volume if name == "Volume" else self.values[name])
        self.details = QWidget()
        details = QVBoxLayout(self.details)
        details.setContentsMargins(0, 0, 0, 0)
        details.addLayout(self.form)
        details.addWidget(self.notice)
        self.lesion_title = _wrapped("Lesions, largest first (click to show; ✓ accept, ✗ reject)")
        details.addWidget(self.lesion_title)
        details.addWidget(self.lesion_table)
        self.plot_title = _wrapped("Hemorrhage area per slice (click a bar to show the slice)")
        details.addWidget(self.plot_title)
        details.addWidget(self.plot)
        details.addWidget(self.slice_readout)
        details.addWidget(self.comparison)
        details.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.details, 1)

    # -- what is shown ------------------------------------------------------------------------
    def show_message(self, text: str) -> None:
        """No findings to show (no study, segmenting, cancelled, failed): say why."""
        self.message.setText(text)
        self.message.show()
        self.details.hide()

    def show_findings(self, study: Study, findings: HemorrhageFindings, edits: MaskEdits | None = None,
                      accepted: set[int] | None = None, model: ModelInfo | None = None) -> None:
        self.message.hide()
        self.details.show()
        self._show_numbers(study, findings)
        self.values["Model"].setText(model.label if model else "none (mask not drawn by a model)")
        self._show_edits(edits)
        self.lesion_table.show_lesions(study, findings.lesions, accepted or set())
        for widget in (self.lesion_title, self.lesion_table):
            widget.setVisible(bool(findings.lesions))
        self._show_plot(findings)
        self._slice_texts = [f"Slice {study.slice_labels[z]}: {_area_text(findings, z)}"
                             for z in range(findings.n_slices)]
        self._findings_study = (study, findings)
        self._show_comparison()

    def set_comparing(self, comparing: bool) -> None:
        """The "Compare with reference" view: off by default, research figures only."""
        self.comparing = comparing
        self._show_comparison()

    def _show_comparison(self) -> None:
        study_findings = getattr(self, "_findings_study", None)
        has_reference = study_findings is not None and study_findings[1].dice_study is not None
        self.comparison.setVisible(self.comparing and has_reference)
        if self.comparing and has_reference:
            self.comparison.show_findings(*study_findings)

    def show_current_slice(self, z: int) -> None:
        self.plot.show_current_slice(z)
        if 0 <= z < len(self._slice_texts):
            self.slice_readout.setText(f"This slice — {self._slice_texts[z]}")

    def slice_text(self, z: int) -> str:
        """'Slice 108: 1.50 cm²': what the plot's tooltip and the readout say of slice z."""
        return self._slice_texts[z]

    def _on_bar_hovered(self, z: int) -> None:
        self.plot.setToolTip(self.slice_text(z) if 0 <= z < len(self._slice_texts) else "")

    def _show_numbers(self, study: Study, findings: HemorrhageFindings) -> None:
        v = self.values
        v["Hemorrhage"].setText(fmt.detection_text(findings))
        v["Hemorrhage"].setToolTip(f"The score is the model's {fmt.SCORE_MEANING}.")
        v["Lesions"].setText(fmt.lesions_text(findings))
        v["Volume"].setText(_volume_text(study, findings))
        # Only 8-bit images lack a voxel size the reader can give; DICOM without one cannot be fixed here.
        self.spacing_button.setVisible(findings.spacing_mm is None and not study.is_hu)
        v["Slices involved"].setText(_slices_involved_text(study, findings))
        v["Largest area"].setText(fmt.largest_area_text(study, findings))

    def _show_plot(self, findings: HemorrhageFindings) -> None:
        shown = findings.n_slices >= MIN_SLICES_FOR_PLOT
        self.plot.setVisible(shown)
        self.plot_title.setVisible(shown)
        unit = "pixels" if findings.per_slice_area_cm2 is None else "cm²"
        areas = findings.per_slice_area_px if findings.per_slice_area_cm2 is None else findings.per_slice_area_cm2
        self.plot.show_areas([float(a) for a in areas], unit)

    def _show_edits(self, edits: MaskEdits | None) -> None:
        edited = edits is not None and edits.edited
        self.form.setRowVisible(self.ROWS.index("Edited"), edited)
        if edited:
            self.values["Edited"].setText(_edits_text(edits))

    def _on_item(self, item: QListWidgetItem) -> None:
        z = item.data(Qt.ItemDataRole.UserRole)
        if z is not None:
            self.slice_requested.emit(int(z))



# -- texts (formatting only: every figure comes from the findings) ---------------------------
def _volume_text(study: Study, findings: HemorrhageFindings) -> str:
    if findings.spacing_mm is None and not study.is_hu:
        return NO_SPACING
    text = fmt.volume_text(study, findings)
    return text.replace("estimate: spacing entered for 8-bit images, not read from DICOM",
                        "voxel size entered by the reader")


def _slices_involved_text(study: Study, findings: HemorrhageFindings) -> str:
    text = f"{findings.n_slices_involved} of {findings.n_slices}"
    if findings.affected_slices:
        text += f" (slices {fmt.slice_ranges(study, findings.affected_slices)})"
    return text


def _dice_text(value: float) -> str:
    return "— (neither outlines hemorrhage)" if math.isnan(value) else f"{value:.2f}"


def _edits_text(edits: MaskEdits) -> str:
    voxels = f"+{edits.voxels_added} / −{edits.voxels_removed} voxels"
    if edits.volume_before_ml is None or edits.volume_after_ml is None:
        return f"edited by reader: {voxels}"
    before, after = fmt.format_ml(edits.volume_before_ml), fmt.format_ml(edits.volume_after_ml)
    return f"edited by reader: volume {before} → {after} ({voxels})"


def _area_text(findings: HemorrhageFindings, z: int) -> str:
    if findings.per_slice_area_cm2 is not None:
        return fmt.format_cm2(float(findings.per_slice_area_cm2[z]))
    return f"{int(findings.per_slice_area_px[z])} pixels"


def _dice_rows(study: Study, findings: HemorrhageFindings) -> list[tuple[int, str]]:
    """One row per slice the model or the reference outlines: its Dice (the comparison view only)."""
    dice = findings.per_slice_dice
    rows = []
    for z in range(findings.n_slices):
        model_has = findings.per_slice_area_px[z] > 0
        # Dice 0 on a slice the model leaves empty: the reference outlines a bleed the model missed.
        if not model_has and dice[z] != 0:
            continue
        text = f"Slice {study.slice_labels[z]}: "
        text += _area_text(findings, z) if model_has else "reference only (model: none)"
        rows.append((z, text + f" · Dice {_dice_text(float(dice[z]))}"))
    return rows
