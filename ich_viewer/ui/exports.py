"""File > Export: the PDF report, the mask and the images, written where the reader chooses.

Every export uses the reader's mask (the model's, with any edits) and runs on
the GUI thread under a busy cursor: each takes well under two seconds. The
reader picks the destination in a save dialog, so the study's own folder is
allowed (export.atomic refuses it otherwise); the dialog starts in the last
export folder, or the home folder, never in the study's folder. Heavy
libraries (reportlab, nibabel, highdicom) load only when an export runs.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from ich_viewer.analysis.review import Review
from ich_viewer.atomic import ExportError
from ich_viewer.study.model import Study, Window
from ich_viewer.ui.opening import busy_cursor
from ich_viewer.ui.settings import ViewerSettings

log = logging.getLogger(__name__)

PDF_FILTER = "PDF report (*.pdf)"
NIFTI_FILTER = "NIfTI (*.nii.gz)"
DICOM_FILTER = "DICOM (*.dcm)"
CSV_FILTER = "CSV table (*.csv)"


def is_dicom_study(study: Study | None) -> bool:
    """DICOM SEG needs the source series' geometry and files, which only DICOM studies have."""
    return study is not None and study.geometry is not None and len(study.slice_files) == study.n_slices


def export_stem(study: Study, anonymise: bool = False) -> str:
    """A file-name stem for the study; anonymised exports must not carry a name-like folder name."""
    if anonymise:
        return "anonymised"
    name = Path(study.source).name or study.description or "study"
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "study"


def with_suffix(path: str, suffix: str) -> Path:
    """The reader may type a name without its extension: add it."""
    return Path(path if path.lower().endswith(suffix) else path + suffix)


class Exporter:
    """Asks where to write, writes, and tells the reader what happened (status bar or message box)."""

    def __init__(self, parent: QWidget, settings: ViewerSettings, tell: Callable[[str], None]) -> None:
        self._parent = parent
        self._settings = settings
        self._tell = tell  # a status-bar message on success

    # -- the exports -----------------------------------------------------------------------
    def report(self, review: Review, window: Window, anonymise: bool = False,
               measurements: tuple[str, ...] = ()) -> Path | None:
        title = "Export anonymised report" if anonymise else "Export report"
        name = f"{export_stem(review.study, anonymise)}_ich_report.pdf"

        def write(dest: Path) -> Path:
            from ich_viewer.report.pdf import build_report

            # metrics=None: the report reads models/metrics.json itself, and says so when it is absent.
            return build_report(review.study, review.findings, review.result, dest, anonymise=anonymise,
                                edited_mask_info=review.edits, window=window, allow_study_folder=True,
                                measurements=measurements)

        return self._save(title, name, PDF_FILTER, ".pdf", "Report", write)

    def mask_nifti(self, review: Review) -> Path | None:
        def write(dest: Path) -> Path:
            from ich_viewer.export.nifti import export_mask_nifti

            drawn_by = review.result.model.label + (", edited by the reader" if review.edited else "")
            return export_mask_nifti(review.study, review.mask, dest, allow_study_folder=True, drawn_by=drawn_by)

        name = f"{export_stem(review.study)}_hemorrhage_mask.nii.gz"
        return self._save("Export mask as NIfTI", name, NIFTI_FILTER, ".nii.gz", "Mask", write)

    def image_nifti(self, study: Study) -> Path | None:
        def write(dest: Path) -> Path:
            from ich_viewer.export.nifti import export_image_nifti

            return export_image_nifti(study, dest, allow_study_folder=True)

        name = f"{export_stem(study)}_ct.nii.gz"
        return self._save("Export image as NIfTI", name, NIFTI_FILTER, ".nii.gz", "Image", write)

    def dicom_seg(self, review: Review) -> Path | None:
        def write(dest: Path) -> Path:
            from ich_viewer.export.dicom_seg import export_dicom_seg

            return export_dicom_seg(review.study, review.mask, dest, model=review.result.model,
                                    edited_by_reader=review.edited, allow_study_folder=True)

        name = f"{export_stem(review.study)}_hemorrhage_seg.dcm"
        return self._save("Export DICOM SEG", name, DICOM_FILTER, ".dcm", "DICOM SEG", write)

    def per_slice_csv(self, review: Review) -> Path | None:
        def write(dest: Path) -> Path:
            from ich_viewer.export.csv import export_findings_csv

            return export_findings_csv(review.study, review.findings, dest, allow_study_folder=True)

        name = f"{export_stem(review.study)}_per_slice.csv"
        return self._save("Export per-slice CSV", name, CSV_FILTER, ".csv", "Per-slice table", write)

    def lesions_csv(self, review: Review) -> Path | None:
        def write(dest: Path) -> Path:
            from ich_viewer.export.csv import export_lesions_csv

            return export_lesions_csv(review.study, review.findings, dest, allow_study_folder=True)

        name = f"{export_stem(review.study)}_lesions.csv"
        return self._save("Export lesion table (CSV)", name, CSV_FILTER, ".csv", "Lesion table", write)

    def key_images(self, review: Review, window: Window) -> list[Path]:
        """The slices with the largest hemorrhage, outlined, as PNG files in a chosen folder."""
        if not review.findings.affected_slices:
            self._tell("No slice outlines hemorrhage: there are no key images to export.")
            return []
        folder = QFileDialog.getExistingDirectory(self._parent, "Folder for the key images", self._start_folder())
        if not folder:
            return []

        def write() -> list[Path]:
            from ich_viewer.export.png import export_key_images

            return export_key_images(review.study, review.mask, folder, window=window, allow_study_folder=True)

        written = self._run(write)
        if written:
            self._remember(Path(folder))
            self._tell(f"{len(written)} key images written to {folder}")
        return written or []

    # -- the common steps ------------------------------------------------------------------
    def _save(self, title: str, name: str, file_filter: str, suffix: str, what: str,
              write: Callable[[Path], Path]) -> Path | None:
        start = str(Path(self._start_folder()) / name)
        chosen, _ = QFileDialog.getSaveFileName(self._parent, title, start, file_filter)
        if not chosen:
            return None
        written = self._run(lambda: write(with_suffix(chosen, suffix)))
        if written is not None:
            self._remember(written.parent)
            self._tell(f"{what} written to {written}")
        return written

    def _run(self, write):
        """Run an export; tell the reader in a message box what went wrong, if anything did."""
        try:
            with busy_cursor():
                return write()
        except ExportError as error:
            self._fail(str(error))
        except Exception as error:
            log.exception("export failed")
            self._fail(f"{type(error).__name__}: {error}")
        return None

    def _fail(self, message: str) -> None:
        QMessageBox.critical(self._parent, "Export failed", message)

    def _start_folder(self) -> str:
        return self._settings.export_folder or str(Path.home())

    def _remember(self, folder: Path) -> None:
        self._settings.export_folder = str(folder)
