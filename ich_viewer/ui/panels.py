"""Panels of the right-hand dock area: the study's facts and the overlay controls."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from ich_viewer.study.export_window import export_window_text
from ich_viewer.study.model import Study
from ich_viewer.ui.overlay import OverlayStack

FILLED, CONTOUR = "Filled", "Contour"
NO_LAYERS = "(no overlay for this study)"


def describe_spacing(study: Study) -> str:
    if study.spacing_mm is None:
        return "unknown (no sizes in mm)"
    dz, dy, dx = study.spacing_mm
    return f"{dx:.3g} × {dy:.3g} mm, slices {dz:.3g} mm"


def value_label() -> QLabel:
    """A wrapped, selectable value (a reader may copy a figure or a path)."""
    label = QLabel()
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class StudyPanel(QWidget):
    """Description, units, slices, spacing, export window, source and the loader's warnings."""

    FIELDS = ("Description", "Patient", "Units", "Slices", "Matrix", "Spacing", "Export window", "Source")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.values = {name: value_label() for name in self.FIELDS}
        form = QFormLayout()
        for name, label in self.values.items():
            form.addRow(f"{name}:", label)
        self.warnings_title = QLabel("Warnings")
        self.warnings = QListWidget()
        self.warnings.setWordWrap(True)
        self.warnings.setAlternatingRowColors(True)  # tells one wrapped warning from the next
        self.warnings.setMaximumHeight(160)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.warnings_title)
        layout.addWidget(self.warnings)
        layout.addStretch(1)
        self.set_study(None)

    def set_study(self, study: Study | None) -> None:
        for label, text in zip(self.values.values(), self._texts(study)):
            label.setText(text)
        self.warnings.clear()
        warnings = study.warnings if study is not None else ()
        self.warnings.addItems([str(w) for w in warnings])  # the text and the files it concerns
        self.warnings_title.setText(f"Warnings ({len(warnings)})" if warnings else "Warnings: none")

    @staticmethod
    def _texts(study: Study | None) -> list[str]:
        if study is None:
            return ["—"] * len(StudyPanel.FIELDS)
        meta = study.metadata
        patient = "  ".join(p for p in (meta.patient_name, meta.patient_id) if p)
        units = "Hounsfield units" if study.is_hu else "8-bit display values (already windowed)"
        _, ny, nx = study.voxels.shape
        return [
            study.description or meta.series_description or study.source.name,
            patient or "—",
            units,
            str(study.n_slices),
            f"{nx} × {ny}",
            describe_spacing(study),
            export_window_text(study) or "— (Hounsfield units)",
            str(study.source),
        ]


LEGEND_HEIGHT = 12


def legend_icon(colours: list[tuple[int, int, int]]) -> QIcon:
    """A swatch: one colour square for a mask, a strip of the colour scale for a heat map."""
    stripe = 4 if len(colours) > 1 else LEGEND_HEIGHT
    pixmap = QPixmap(stripe * len(colours), LEGEND_HEIGHT)
    painter = QPainter(pixmap)
    for i, colour in enumerate(colours):
        painter.fillRect(i * stripe, 0, stripe, LEGEND_HEIGHT, QColor(*colour))
    painter.end()
    return QIcon(pixmap)


class OverlayPanel(QWidget):
    """Layer list with per-layer switches, show/hide (O), opacity and filled/contour (C)."""

    def __init__(self, stack: OverlayStack, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._stack = stack
        self.show_box = QCheckBox("Show overlay (O)")
        self.layer_list = QListWidget()
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity_label = QLabel()
        self.mode = QComboBox()
        self.mode.addItems([FILLED, CONTOUR])
        self._build_layout()
        self.show_box.toggled.connect(stack.set_shown)
        self.opacity.valueChanged.connect(lambda v: stack.set_opacity(v / 100))
        self.mode.currentTextChanged.connect(lambda text: stack.set_contour(text == CONTOUR))
        self.layer_list.itemChanged.connect(self._on_item_changed)
        stack.layers_changed.connect(self._refresh_layers)
        stack.display_changed.connect(self._refresh_display)
        self._refresh_layers()
        self._refresh_display()

    def _build_layout(self) -> None:
        opacity_row = QHBoxLayout()
        opacity_row.addWidget(QLabel("Opacity"))
        opacity_row.addWidget(self.opacity, 1)
        opacity_row.addWidget(self.opacity_label)
        mode_row = QHBoxLayout()
        mode_row.addWidget(QLabel("Draw (C)"))
        mode_row.addWidget(self.mode, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.show_box)
        layout.addWidget(self.layer_list)
        layout.addLayout(opacity_row)
        layout.addLayout(mode_row)
        layout.addStretch(1)
        self.layer_list.setMaximumHeight(90)
        # Icons as wide as the heat map's scale strip, so it is not squeezed into a square.
        self.layer_list.setIconSize(QSize(48, LEGEND_HEIGHT))

    def _refresh_layers(self) -> None:
        layers = self._stack.layers()
        shown = [self.layer_list.item(i).text() for i in range(self.layer_list.count())]
        self.layer_list.blockSignals(True)
        # Rebuild only when the layers themselves changed: this also runs from inside
        # itemChanged, where deleting the item being changed would crash.
        if shown != ([layer.name for layer in layers] or [NO_LAYERS]):
            self.layer_list.clear()
            for layer in layers:
                item = QListWidgetItem(legend_icon(layer.legend_colours()), layer.name)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                self.layer_list.addItem(item)
            if not layers:
                self.layer_list.addItem(NO_LAYERS)
        for i, layer in enumerate(layers):
            state = Qt.CheckState.Checked if layer.visible else Qt.CheckState.Unchecked
            self.layer_list.item(i).setCheckState(state)
        self.layer_list.blockSignals(False)

    def _refresh_display(self) -> None:
        stack = self._stack
        for widget in (self.show_box, self.opacity, self.mode):
            widget.blockSignals(True)
        self.show_box.setChecked(stack.shown)
        self.opacity.setValue(round(stack.opacity * 100))
        self.mode.setCurrentText(CONTOUR if stack.contour else FILLED)
        for widget in (self.show_box, self.opacity, self.mode):
            widget.blockSignals(False)
        self.opacity_label.setText(f"{round(stack.opacity * 100)} %")

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        if self._stack.layer(item.text()) is not None:
            self._stack.set_layer_visible(item.text(), item.checkState() == Qt.CheckState.Checked)
