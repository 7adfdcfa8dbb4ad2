"""The PDF report a radiologist files: identification, summary, key images, input quality, method.

Built with reportlab's platypus (flowing paragraphs, tables, vector chart)
on A4. Every page repeats who the report is about and "page n of m", so a
loose page can be put back. Key images are the same pixels as the PNG
export (export/png.py) and are printed at 150 dpi or more.
"""

from __future__ import annotations

import functools
import io
import math
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Image,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from ich_viewer import __version__
from ich_viewer.analysis.edits import MaskEdits, compare_masks
from ich_viewer.analysis.findings import HemorrhageFindings
from ich_viewer.analysis.lesions import CRESCENT_SOLIDITY, LESION_CONNECTIVITY, MIN_LESION_VOXELS, THIN_LAYER_RATIO
from ich_viewer.atomic import ensure_outside_study_folder, write_atomic
from ich_viewer.rendering import encode_png, render_slice
from ich_viewer.report import formatting as fmt
from ich_viewer.report.chart import area_chart
from ich_viewer.report.fonts import FONT, FONT_BOLD, register_fonts
from ich_viewer.report.validation import load_metrics, metric_rows
from ich_viewer.segmentation.result import SegmentationResult
from ich_viewer.study.export_window import export_window_text
from ich_viewer.study.model import Study, Window

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 18 * mm, 20 * mm, 19 * mm
FRAME_PADDING = 6  # points; platypus frames inset their content by this much
CONTENT_LEFT = MARGIN_X + FRAME_PADDING
CONTENT_WIDTH = PAGE_WIDTH - 2 * CONTENT_LEFT
MAX_KEY_SLICES = 6
KEY_IMAGE_WIDTH = 66 * mm
PRINT_DPI = 150
TITLE = "Intracranial hemorrhage: CT analysis report"

INK = colors.HexColor("#1a1a1a")
HEADING = colors.HexColor("#1f3a5f")
MUTED = colors.HexColor("#5a5a5a")
RULE = colors.HexColor("#c8c8c8")
ALERT = colors.HexColor("#b00000")
NOTICE_FILL, NOTICE_EDGE = colors.HexColor("#fff4ce"), colors.HexColor("#c9a227")

INTENDED_USE = (
    "ICH Viewer outlines and measures suspected intracranial hemorrhage on non-contrast head CT "
    "to support a radiologist's review of the images. It is not a diagnosis, and it is not intended "
    "to rule hemorrhage out, to replace reading every slice, or to triage patients on its own."
)
CONFIRMATION_NOTICE = (
    "Automated result. Every finding, outline and measurement in this report must be confirmed "
    "by a radiologist on the original images before it is used for patient care."
)
FOOTER_NOTICE = "Automated analysis: to be confirmed by a radiologist."


@dataclass
class _Report:
    """Everything one report is made from, gathered once."""

    study: Study
    findings: HemorrhageFindings
    segmentation: SegmentationResult | None
    anonymise: bool
    edits: MaskEdits | None
    metrics: dict | None
    metrics_note: str
    window: Window
    measurements: tuple[str, ...]  # the reader's rulers and ROIs, one line each
    generated: datetime
    styles: dict[str, ParagraphStyle]


def build_report(
    study: Study,
    findings: HemorrhageFindings,
    segmentation: SegmentationResult | None,
    out_path: Path | str,
    anonymise: bool = False,
    edited_mask_info: MaskEdits | None = None,
    metrics: dict | None = None,
    *,
    window: Window | None = None,
    allow_study_folder: bool = False,
    measurements: tuple[str, ...] = (),
) -> Path:
    """Write the PDF report atomically to out_path and return it.

    findings should carry the mask they measured (compute_findings keeps it);
    the key images outline that mask. metrics defaults to models/metrics.json.
    edited_mask_info defaults to comparing the model's mask with the findings' mask.
    measurements are the reader's ruler and ROI lines (analysis.measurements.describe).
    """
    ensure_outside_study_folder(out_path, study.source, allow_study_folder)
    pdf = render_report(study, findings, segmentation, anonymise, edited_mask_info, metrics, window=window,
                        measurements=measurements)
    return write_atomic(out_path, pdf)


def render_report(
    study: Study,
    findings: HemorrhageFindings,
    segmentation: SegmentationResult | None,
    anonymise: bool = False,
    edited_mask_info: MaskEdits | None = None,
    metrics: dict | None = None,
    *,
    window: Window | None = None,
    measurements: tuple[str, ...] = (),
) -> bytes:
    """The report as PDF bytes (build_report writes them to disk)."""
    _configure_reportlab()
    metrics_note = ""
    if metrics is None:
        metrics, metrics_note = load_metrics()
    report = _Report(
        study=study,
        findings=findings,
        segmentation=segmentation,
        anonymise=anonymise,
        edits=edited_mask_info or _detect_edits(study, findings, segmentation),
        metrics=metrics,
        metrics_note=metrics_note,
        window=window or study.default_window(),
        measurements=tuple(measurements),
        generated=datetime.now().astimezone(),
        styles=_styles(),
    )
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        initialFontName=FONT,  # reportlab's default, Helvetica, is never embedded
        # Document properties are visible in any PDF reader: never identify the patient there.
        title=TITLE,
        author="ICH Viewer",
        creator=f"ICH Viewer {__version__}",
        subject="",
    )
    story = [
        *_identification(report),
        *_summary(report),
        *_area_chart(report),
        *_measurements(report),
        PageBreak(),
        *_key_images(report),
        PageBreak(),
        *_input_quality(report),
        *_method(report),
        *_reference_comparison(report),
    ]
    document.build(story, canvasmaker=_numbered_canvas(partial(_decorate_page, report)))
    return buffer.getvalue()


@functools.cache
def _configure_reportlab() -> None:
    register_fonts()
    # Binary streams: a fifth smaller than ASCII85 text, and without reportlab's
    # C accelerator the ASCII85 encoder is pure Python and took most of the build time.
    rl_config.useA85 = 0


def _detect_edits(study, findings, segmentation) -> MaskEdits | None:
    """If the measured mask is not the model's, the reader edited it: say so even if not told."""
    if segmentation is None or findings.mask is None or findings.mask.shape != segmentation.mask.shape:
        return None
    return compare_masks(segmentation.mask, findings.mask, study.spacing_mm)


# ---------------------------------------------------------------- styles and building blocks


def _styles() -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("body", fontName=FONT, bulletFontName=FONT, fontSize=9, leading=12, textColor=INK)
    return {
        "body": body,
        "title": ParagraphStyle(
            "title", parent=body, fontName=FONT_BOLD, fontSize=16, leading=20, textColor=HEADING
        ),
        "heading": ParagraphStyle(
            "heading", parent=body, fontName=FONT_BOLD, fontSize=11.5, leading=14,
            spaceBefore=9, spaceAfter=4, textColor=HEADING,
        ),
        "label": ParagraphStyle("label", parent=body, fontName=FONT_BOLD),
        "alert": ParagraphStyle("alert", parent=body, fontName=FONT_BOLD, textColor=ALERT),
        "small": ParagraphStyle("small", parent=body, fontSize=7.5, leading=9.5, textColor=MUTED),
        "caption": ParagraphStyle("caption", parent=body, fontSize=8, leading=10, alignment=TA_CENTER),
        "notice": ParagraphStyle("notice", parent=body, fontName=FONT_BOLD, fontSize=9, leading=12),
        # small enough that a SHA-256 stays on one line, so it can be compared or copied whole
        "hash": ParagraphStyle("hash", parent=body, fontSize=8, splitLongWords=False),
        "bullet": ParagraphStyle("bullet", parent=body, leftIndent=10, bulletIndent=0),
    }


def _text(value: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph of plain text: names like 'O'Brien & Sons' must not be read as markup."""
    return Paragraph(escape(value), style)


def _table(rows: list, col_widths: list[float] | None = None, *commands: tuple) -> Table:
    """A Table in the report font: reportlab's default cell font (Helvetica) is never embedded."""
    table = Table(rows, colWidths=col_widths)
    table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), FONT), *commands]))
    return table


def _facts(rows, styles, columns: int = 1, label_width: float = 42 * mm) -> Table:
    """Label/value rows as a ruled table; columns=2 puts two facts side by side."""
    cells = [
        [_text(label, styles["label"]), value if not isinstance(value, str) else _text(value, styles["body"])]
        for label, value in rows
    ]
    per_row = [[cell for pair in cells[i:i + columns] for cell in pair] for i in range(0, len(cells), columns)]
    per_row[-1] += [""] * (2 * columns - len(per_row[-1]))
    value_width = CONTENT_WIDTH / columns - label_width
    return _table(
        per_row,
        [label_width, value_width] * columns,
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3.5),
    )


def _notice(text: str, styles) -> Table:
    return _table(
        [[_text(text, styles["notice"])]],
        [CONTENT_WIDTH],
        ("BACKGROUND", (0, 0), (-1, -1), NOTICE_FILL),
        ("BOX", (0, 0), (-1, -1), 0.8, NOTICE_EDGE),
        ("LEFTPADDING", (0, 0), (-1, -1), 7),
        ("RIGHTPADDING", (0, 0), (-1, -1), 7),
        ("TOPPADDING", (0, 0), (-1, -1), 5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
    )


def _heading(text: str, styles) -> Paragraph:
    return _text(text, styles["heading"])


# ---------------------------------------------------------------- page 1: who, what was found


def _identification(report: _Report) -> list:
    styles = report.styles
    flow = [_text(TITLE, styles["title"]), Spacer(1, 3 * mm)]
    if report.anonymise:
        flow.append(_text(
            "Anonymised report: patient identifiers, dates, accession, descriptions and institution "
            "are left out.",
            styles["small"],
        ))
    else:
        rows = fmt.identifying_rows(report.study.metadata) or [
            ("Patient", "not recorded in the images"),
            ("Source", fmt.source_text(report.study)),
        ]
        flow.append(_facts(rows, styles, columns=2, label_width=24 * mm))
    generated = report.generated.strftime("%Y-%m-%d %H:%M %Z").strip()
    flow += [
        Spacer(1, 1.5 * mm),
        _text(f"Report created {generated} by ICH Viewer {__version__}.", styles["small"]),
    ]
    return flow


def _summary(report: _Report) -> list:
    study, findings, styles = report.study, report.findings, report.styles
    verdict_style = styles["alert"] if findings.detected else styles["label"]
    involved = f"{findings.n_slices_involved} of {findings.n_slices}"
    if findings.affected_slices:
        involved += f" (slices {fmt.slice_ranges(study, findings.affected_slices)})"
    rows = [
        ("Hemorrhage", _text(fmt.detection_text(findings), verdict_style)),
        ("Lesions", fmt.lesions_text(findings)),
        ("Total volume", fmt.volume_text(study, findings)),
        ("Slices involved", involved),
        ("Largest axial area", fmt.largest_area_text(study, findings)),
        ("Reader edits", fmt.edits_text(report.edits, report.segmentation is not None)),
    ]
    return [
        _heading("Summary", styles),
        _facts(rows, styles),
        *_lesion_table(report),
        Spacer(1, 2 * mm),
        _text(fmt.MISSED_BLEEDS_NOTICE, styles["small"]),
        Spacer(1, 3 * mm),
        _notice(CONFIRMATION_NOTICE, styles),
    ]


LESION_COLUMNS = ("#", "Side", "Slices", "Volume", "Largest area", "Thickest", "Mean HU", "ABC/2")
LESION_WIDTHS = (7 * mm, 17 * mm, 20 * mm, 18 * mm, 20 * mm, 15 * mm, 15 * mm)


def _lesion_table(report: _Report) -> list:
    """One row per lesion, largest first: the same list as the Findings panel and findings.json."""
    study, lesions, styles = report.study, report.findings.lesions, report.styles
    if not lesions:
        return []
    cell = styles["small"]
    rows = [[_text(name, styles["label"]) for name in LESION_COLUMNS]]
    for lesion in lesions:
        rows.append([_text(value, cell) for value in (
            str(lesion.number), fmt.lesion_location(lesion), fmt.lesion_slices_text(study, lesion),
            fmt.lesion_volume_text(lesion), fmt.lesion_area_text(lesion), fmt.lesion_thickness_text(lesion),
            fmt.lesion_hu_text(lesion),
            fmt.lesion_abc2_text(lesion))])
    widths = [*LESION_WIDTHS, CONTENT_WIDTH - sum(LESION_WIDTHS)]
    table = _table(rows, widths, ("VALIGN", (0, 0), (-1, -1), "TOP"),
                   ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE), ("LEFTPADDING", (0, 0), (-1, -1), 2))
    return [Spacer(1, 3 * mm), _text("Lesions (3-D connected), largest first", styles["label"]), table]


def _reference_comparison(report: _Report) -> list:
    """Research figures, apart from the clinical summary: agreement with a supplied reference mask."""
    text = fmt.reference_text(report.findings)
    if text is None:
        return []
    styles = report.styles
    return [
        _heading("Comparison with a reference mask (research)", styles),
        _text(f"Against the segmentation supplied with the images: {text}. Not a clinical finding.",
              styles["body"]),
    ]


def _area_chart(report: _Report) -> list:
    styles, findings = report.styles, report.findings
    flow = [_heading("Hemorrhage area per slice", styles)]
    if not findings.affected_slices:
        return [*flow, _text("No hemorrhage segmented on any slice.", styles["body"])]
    key = findings.key_slices(MAX_KEY_SLICES)
    flow.append(area_chart(report.study, findings, key, CONTENT_WIDTH, 58 * mm))
    flow.append(_text("Dark bars: slices shown as key images.", styles["small"]))
    return flow


# ---------------------------------------------------------------- key images


def _measurements(report: _Report) -> list:
    """The reader's own rulers and ROIs, as listed in the viewer's Measurements panel."""
    if not report.measurements:
        return []
    styles = report.styles
    return [_heading("Measurements by the reader", styles),
            *(_text(line, styles["body"]) for line in report.measurements)]


def _image(pixels: np.ndarray, width: float) -> Image:
    height = width * pixels.shape[0] / pixels.shape[1]
    return Image(io.BytesIO(encode_png(pixels)), width=width, height=height)


def _key_image_pair(report: _Report, z: int, mask: np.ndarray) -> KeepTogether:
    study, findings, styles = report.study, report.findings, report.styles
    # Enlarge small slices so every printed image has at least PRINT_DPI.
    min_px = math.ceil(PRINT_DPI * KEY_IMAGE_WIDTH / mm / 25.4)
    plain = render_slice(study, z, report.window, min_size_px=min_px)
    outlined = render_slice(study, z, report.window, mask, "contour", min_size_px=min_px)
    pair = _table(
        [[_image(plain, KEY_IMAGE_WIDTH), _image(outlined, KEY_IMAGE_WIDTH)]],
        None,
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    )
    if findings.per_slice_area_cm2 is not None:
        area = fmt.format_cm2(findings.per_slice_area_cm2[z])
    else:
        area = f"{findings.per_slice_area_px[z]} pixels"
    caption = (
        f"{fmt.slice_name(study, z).capitalize()} · hemorrhage area {area} · "
        f"window {fmt.format_window(report.window, study)}"
    )
    return KeepTogether([pair, _text(caption, styles["caption"]), Spacer(1, 4 * mm)])


def _key_images(report: _Report) -> list:
    styles = report.styles
    mask = report.findings.mask
    if mask is None and report.segmentation is not None:
        mask = report.segmentation.mask
    slices = report.findings.key_slices(MAX_KEY_SLICES)
    flow = [_heading("Key images", styles)]
    if not slices or mask is None:
        return [*flow, _text("No hemorrhage segmented: no key images.", styles["body"])]
    which = "The slice" if len(slices) == 1 else f"The {len(slices)} slices"
    flow.append(_text(
        f"{which} with the largest segmented area, in slice order. Left: the slice as acquired. "
        "Right: the same slice with the segmented hemorrhage outlined in red.",
        styles["body"],
    ))
    flow.append(Spacer(1, 3 * mm))
    return flow + [_key_image_pair(report, z, mask) for z in slices]


# ---------------------------------------------------------------- input quality and method


def _input_quality(report: _Report) -> list:
    study, styles = report.study, report.styles
    metadata = study.metadata
    spacing = fmt.format_spacing(study)
    if fmt.spacing_is_estimate(study):
        spacing += " (entered for 8-bit images: volumes are estimates)"
    thickness = metadata.slice_thickness_mm
    rows = [
        ("Input", "DICOM CT in Hounsfield units" if study.is_hu
         else "8-bit display images (JPG/PNG), already windowed: no Hounsfield units"),
        ("Slices", str(study.n_slices)),
        ("Matrix", f"{study.voxels.shape[1]} × {study.voxels.shape[2]} pixels"),
        ("Voxel spacing", spacing),
        ("Slice thickness", f"{thickness:.3g} mm" if thickness else "not recorded"),
    ]
    if not study.is_hu:
        rows.append(("Export window", export_window_text(study)))
    scanner_parts = (
        metadata.manufacturer,
        metadata.kvp and f"{metadata.kvp} kV",
        metadata.convolution_kernel and f"kernel {metadata.convolution_kernel}",
    )
    scanner = ", ".join(part for part in scanner_parts if part)
    if scanner:
        rows.append(("Scanner", scanner))
    if not report.anonymise:
        rows.append(("Source", fmt.source_text(study)))
    return [_heading("Input quality", styles), _facts(rows, styles), *_warnings(report)]


def _warnings(report: _Report) -> list:
    styles = report.styles
    # A warning's text names no file; anonymised, its files (which may name the patient) are left out.
    warnings = [w.for_report(anonymised=report.anonymise) for w in report.study.warnings]
    flow = [Spacer(1, 2 * mm), _text("Warnings", styles["label"])]
    if not warnings:
        return [*flow, _text("None.", styles["body"])]
    return flow + [Paragraph(escape(w), styles["bullet"], bulletText="•") for w in warnings]


def _model_rows(segmentation: SegmentationResult | None, styles) -> list[tuple]:
    if segmentation is None:
        return [("Model", "not available: the mask was not produced by the model in this session")]
    model = segmentation.model
    return [
        ("Model", model.label),
        ("Weights SHA-256", _text(model.sha256, styles["hash"])),
        ("Run on", segmentation.device),
        ("Thresholds", f"voxel probability ≥ {model.threshold:.2f}; "
                       f"slice detection score ≥ {model.detection_threshold:.2f}"),
        ("Preprocessing", model.preprocessing),
    ]


MEASUREMENT_METHOD = (
    f"Lesions: 3-D connected regions of the mask ({LESION_CONNECTIVITY}-connected), at least "
    f"{MIN_LESION_VOXELS} voxels; smaller specks count in the total only. Volume = number of segmented "
    "voxels × voxel volume; none is given for fewer than 3 slices, unknown spacing, or slice spacing "
    "uneven by more than 10 %. ABC/2 (Kothari et al., Stroke 1996) per lesion alone: A = longest "
    "diameter on the lesion's slice of largest area, B = widest extent perpendicular to A on that slice, "
    "C = the lesion's slice count × slice spacing. ABC/2 is marked not valid for crescents (the outline "
    f"fills less than {CRESCENT_SOLIDITY:.0%} of its convex hull) and thin layers (B < "
    f"{THIN_LAYER_RATIO:g} × A), the shapes of extra-axial collections. Side (DICOM only) is from the head's "
    "midline; supratentorial or infratentorial is not determined."
)


def _method(report: _Report) -> list:
    styles = report.styles
    rows = [*_model_rows(report.segmentation, styles), ("Measurements", MEASUREMENT_METHOD)]
    validation = metric_rows(report.metrics) if report.metrics else []
    flow = [_heading("Method", styles), _facts(rows, styles), _heading("Validation of the model", styles)]
    if validation:
        flow.append(_text("As recorded in models/metrics.json for the shipped model.", styles["small"]))
        flow.append(_facts(validation, styles, label_width=70 * mm))
    else:
        flow.append(_text(f"Validation figures: {report.metrics_note or 'not available'}.", styles["body"]))
    return [*flow, _heading("Intended use", styles), _text(INTENDED_USE, styles["body"]), Spacer(1, 4 * mm),
            _notice(CONFIRMATION_NOTICE, styles)]


# ---------------------------------------------------------------- running header and footer


def _patient_line(report: _Report) -> str:
    if report.anonymise:
        return "Anonymised report"
    metadata = report.study.metadata
    parts = [
        fmt.readable_name(metadata.patient_name),
        metadata.patient_id and f"ID {metadata.patient_id}",
        metadata.study_date and f"study {fmt.readable_date(metadata.study_date)}",
    ]
    return " · ".join(p for p in parts if p) or f"Source: {report.study.source.name}"


def _decorate_page(report: _Report, canvas: Canvas, page: int, total: int) -> None:
    """Header (program, patient) and footer (creation, notice, page n of m) on every page."""
    left, right = CONTENT_LEFT, PAGE_WIDTH - CONTENT_LEFT
    top = PAGE_HEIGHT - 12 * mm
    canvas.saveState()
    canvas.setFillColor(MUTED)
    canvas.setFont(FONT_BOLD, 7.5)
    canvas.drawString(left, top, "ICH Viewer · head CT hemorrhage report")
    canvas.setFont(FONT, 7.5)
    canvas.drawRightString(right, top, _patient_line(report))
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.5)
    canvas.line(left, top - 2 * mm, right, top - 2 * mm)
    bottom = 9 * mm
    canvas.line(left, bottom + 6 * mm, right, bottom + 6 * mm)
    generated = report.generated.strftime("%Y-%m-%d %H:%M")
    canvas.drawString(left, bottom + 2.5 * mm, f"Created {generated} · ICH Viewer {__version__}")
    canvas.drawCentredString(PAGE_WIDTH / 2, bottom - 1 * mm, FOOTER_NOTICE)
    canvas.setFont(FONT_BOLD, 7.5)
    canvas.drawRightString(right, bottom + 2.5 * mm, f"page {page} of {total}")
    canvas.restoreState()


def _numbered_canvas(decorate):
    """A canvas class that holds pages back until the total is known, then decorates each."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._held_pages: list[dict] = []

        def showPage(self):
            self._held_pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._held_pages)
            for number, state in enumerate(self._held_pages, start=1):
                self.__dict__.update(state)
                decorate(self, number, total)
                super().showPage()
            super().save()

    return NumberedCanvas
