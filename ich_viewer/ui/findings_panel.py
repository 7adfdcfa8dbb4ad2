"""The Findings panel: what the model found, in the reader's units, and where.

It only shows a HemorrhageFindings (computed in ich_viewer.analysis) and the
reader's edit summary: verdict and detection score, volume beside ABC/2,
slices involved, largest axial area, agreement with a reference outline, a
per-slice area plot and the list of slices with hemorrhage. Clicking a bar
or a list row asks the window to show that slice.
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ich_viewer.analysis import HemorrhageFindings, MaskEdits
from ich_viewer.report import formatting as fmt
from ich_viewer.study.model import Study
from ich_viewer.ui.overlay import MODEL_COLOUR
from ich_viewer.ui.panels import value_label

NO_SPACING = "not available — enter the voxel size"
PLOT_HEIGHT = 150
BAR_WIDTH = 0.8
CURRENT_SLICE_PEN = pg.mkPen((255, 215, 0), width=1.5)  # yellow: apart from the red bars


class AreaPlot(pg.PlotWidget):
    """Hemorrhage area per slice as bars (x = slice position 1..n), with the current slice marked."""

    slice_clicked = Signal(int)

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

    def _on_click(self, event) -> None:
        view_box = self.plotItem.vb
        if not view_box.sceneBoundingRect().contains(event.scenePos()):
            return
        z = round(view_box.mapSceneToView(event.scenePos()).x()) - 1
        if 0 <= z < self._n_slices:
            event.accept()
            self.slice_clicked.emit(z)


def _wrapped(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)  # the panel may be narrow: wrap rather than widen it
    return label


class FindingsPanel(QWidget):
    """Shows one HemorrhageFindings; asks for slices (clicks) and for the voxel size (button)."""

    slice_requested = Signal(int)
    spacing_requested = Signal()

    ROWS = ("Hemorrhage", "Volume", "ABC/2", "Slices involved", "Largest area", "Dice vs reference", "Edited")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.values = {name: value_label() for name in self.ROWS}
        self.spacing_button = QPushButton("Enter voxel size…")
        self.spacing_button.setToolTip("Give slice thickness and pixel size to measure in mL and cm²")
        self.spacing_button.clicked.connect(self.spacing_requested)
        self.plot = AreaPlot()
        self.plot.slice_clicked.connect(self.slice_requested)
        self.slice_list = QListWidget()
        self.slice_list.setToolTip("Click a slice to show it (N / P: next / previous)")
        self.slice_list.itemClicked.connect(self._on_item)
        self.slice_list.itemActivated.connect(self._on_item)
        self.form = QFormLayout()
        self._build_layout()
        self.show_message("No study open.")

    def _build_layout(self) -> None:
        volume = QVBoxLayout()  # the button under the text: side by side, both got too narrow
        volume.setContentsMargins(0, 0, 0, 0)
        volume.addWidget(self.values["Volume"])
        volume.addWidget(self.spacing_button, 0, Qt.AlignmentFlag.AlignLeft)
        for name in self.ROWS:
            self.form.addRow(f"{name}:", volume if name == "Volume" else self.values[name])
        self.details = QWidget()
        details = QVBoxLayout(self.details)
        details.setContentsMargins(0, 0, 0, 0)
        details.addLayout(self.form)
        details.addWidget(_wrapped("Hemorrhage area per slice (click a bar to show the slice)"))
        details.addWidget(self.plot)
        details.addWidget(_wrapped("Slices with hemorrhage"))
        details.addWidget(self.slice_list, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.details, 1)

    # -- what is shown ------------------------------------------------------------------------
    def show_message(self, text: str) -> None:
        """No findings to show (no study, segmenting, cancelled, failed): say why."""
        self.message.setText(text)
        self.message.show()
        self.details.hide()

    def show_findings(self, study: Study, findings: HemorrhageFindings, edits: MaskEdits | None = None) -> None:
        self.message.hide()
        self.details.show()
        self._show_numbers(study, findings)
        self._show_edits(edits)
        unit = "pixels" if findings.per_slice_area_cm2 is None else "cm²"
        areas = findings.per_slice_area_px if findings.per_slice_area_cm2 is None else findings.per_slice_area_cm2
        self.plot.show_areas([float(a) for a in areas], unit)
        self._fill_slice_list(study, findings)

    def show_current_slice(self, z: int) -> None:
        self.plot.show_current_slice(z)

    def _show_numbers(self, study: Study, findings: HemorrhageFindings) -> None:
        v = self.values
        v["Hemorrhage"].setText(fmt.detection_text(findings))
        v["Volume"].setText(_volume_text(study, findings))
        # Only 8-bit images lack a voxel size the reader can give; DICOM without one cannot be fixed here.
        self.spacing_button.setVisible(findings.volume_ml is None and not study.is_hu)
        v["ABC/2"].setText("not available" if findings.abc2_ml is None else fmt.abc2_text(study, findings))
        v["Slices involved"].setText(_slices_involved_text(study, findings))
        v["Largest area"].setText(fmt.largest_area_text(study, findings))
        has_reference = findings.dice_study is not None
        self.form.setRowVisible(self.ROWS.index("Dice vs reference"), has_reference)
        if has_reference:
            v["Dice vs reference"].setText(_dice_text(findings.dice_study) + " (model vs reference, whole study)")

    def _show_edits(self, edits: MaskEdits | None) -> None:
        edited = edits is not None and edits.edited
        self.form.setRowVisible(self.ROWS.index("Edited"), edited)
        if edited:
            self.values["Edited"].setText(_edits_text(edits))

    def _fill_slice_list(self, study: Study, findings: HemorrhageFindings) -> None:
        self.slice_list.clear()
        for z, text in _slice_rows(study, findings):
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, z)
            self.slice_list.addItem(item)
        if not self.slice_list.count():
            self.slice_list.addItem("(none)")

    def _on_item(self, item: QListWidgetItem) -> None:
        z = item.data(Qt.ItemDataRole.UserRole)
        if z is not None:
            self.slice_requested.emit(int(z))


# -- texts (formatting only: every figure comes from the findings) ---------------------------
def _volume_text(study: Study, findings: HemorrhageFindings) -> str:
    if findings.volume_ml is None:
        return NO_SPACING if not study.is_hu else fmt.volume_unavailable_reason(study)
    text = f"{fmt.format_ml(findings.volume_ml)} (voxel count × voxel volume)"
    if fmt.spacing_is_estimate(study):
        text += "; voxel size entered by the reader"
    return text


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


def _slice_rows(study: Study, findings: HemorrhageFindings) -> list[tuple[int, str]]:
    """One row per slice the model or the reference outlines: area, and Dice when there is a reference."""
    dice = findings.per_slice_dice
    rows = []
    for z in range(findings.n_slices):
        model_has = findings.per_slice_area_px[z] > 0
        # Dice 0 on a slice the model leaves empty: the reference outlines a bleed the model missed.
        reference_only = not model_has and dice is not None and dice[z] == 0
        if not (model_has or reference_only):
            continue
        text = f"Slice {study.slice_labels[z]}: "
        text += _area_text(findings, z) if model_has else "reference only (model: none)"
        if dice is not None:
            text += f" · Dice {_dice_text(float(dice[z]))}"
        rows.append((z, text))
    return rows
