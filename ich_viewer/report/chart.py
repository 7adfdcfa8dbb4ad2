"""The per-slice hemorrhage area bar chart, drawn as vector graphics (sharp at any zoom)."""

from __future__ import annotations

import math

from ich_viewer.analysis.findings import HemorrhageFindings
from ich_viewer.report.fonts import FONT
from ich_viewer.study.model import Study

BAR_COLOUR = "#e8a0a0"
KEY_SLICE_COLOUR = "#c00000"  # slices shown as key images
GRID_COLOUR = "#d9d9d9"
MAX_AXIS_LABELS = 30


def area_chart(
    study: Study, findings: HemorrhageFindings, key_slices: list[int], width: float, height: float
):
    """A reportlab Drawing: one bar per slice, key-image slices darker; cm² when known, else pixels."""
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors

    in_cm2 = findings.per_slice_area_cm2 is not None
    values = [float(v) for v in (findings.per_slice_area_cm2 if in_cm2 else findings.per_slice_area_px)]
    drawing = Drawing(width, height)
    drawing.initialFontName = FONT  # else the renderer selects Helvetica, which is not embedded
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 42, 28, width - 52, height - 40
    chart.data = [values]
    chart.barSpacing, chart.groupSpacing = 0, 1
    chart.bars.strokeColor = None
    chart.bars[0].fillColor = colors.HexColor(BAR_COLOUR)
    for z in key_slices:
        chart.bars[(0, z)].fillColor = colors.HexColor(KEY_SLICE_COLOUR)
    _label_axes(chart, study, max(values, default=0.0))
    drawing.add(chart)
    unit = "area (cm²)" if in_cm2 else "area (pixels)"
    title = String(0, 0, unit, fontName=FONT, fontSize=7, textAnchor="middle")
    drawing.add(_rotated(title, 8, chart.y + chart.height / 2))
    drawing.add(String(chart.x + chart.width / 2, 2, "slice", fontName=FONT, fontSize=7, textAnchor="middle"))
    return drawing


def _label_axes(chart, study: Study, largest: float) -> None:
    """Every slice label when they fit, else every n-th; value axis from zero."""
    from reportlab.lib import colors

    step = max(1, math.ceil(len(study.slice_labels) / MAX_AXIS_LABELS))
    chart.categoryAxis.categoryNames = [
        label if i % step == 0 else "" for i, label in enumerate(study.slice_labels)
    ]
    for axis in (chart.categoryAxis, chart.valueAxis):
        axis.labels.fontName, axis.labels.fontSize = FONT, 6.5
    chart.categoryAxis.tickDown = 2
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = None if largest > 0 else 1
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = colors.HexColor(GRID_COLOUR)


def _rotated(text, x: float, y: float):
    """The vertical axis title, turned 90 degrees about (x, y)."""
    from reportlab.graphics.shapes import Group

    group = Group(text)
    group.transform = (0, 1, -1, 0, x, y)
    return group
