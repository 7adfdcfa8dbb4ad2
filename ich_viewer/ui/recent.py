"""File > Recent studies: what each entry says about its study (patient, date, description).

A small record is kept for each study opened; entries from before there were
records (a bare path) still open, and show their path.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from ich_viewer.analysis.annotations import readable_date, readable_name
from ich_viewer.study.model import Study

SEPARATOR = " — "


@dataclass(frozen=True)
class RecentStudy:
    """One entry of the recent list: where the study is, and how the reader knows it."""

    path: str
    patient_name: str = ""  # DICOM PN, as found
    study_date: str = ""  # DICOM DA, as found
    description: str = ""
    modality: str = ""
    n_slices: int = 0

    @classmethod
    def of(cls, path: str, study: Study) -> RecentStudy:
        meta = study.metadata
        return cls(path, meta.patient_name, meta.study_date, meta.study_description or study.description,
                   meta.modality, study.n_slices)

    @classmethod
    def from_details(cls, path: str, details: object) -> RecentStudy:
        """The record stored for `path`; a bare one (path only) when none or a damaged one is stored."""
        if not isinstance(details, dict):
            return cls(path)
        texts = {f.name: str(details.get(f.name) or "") for f in fields(cls) if f.name not in ("path", "n_slices")}
        try:
            n_slices = int(details.get("n_slices") or 0)
        except (TypeError, ValueError):
            n_slices = 0
        return cls(path, n_slices=n_slices, **texts)

    def details(self) -> dict:
        """What is stored besides the path."""
        stored = asdict(self)
        del stored["path"]
        return stored

    def label(self, anonymise: bool) -> str:
        """The menu entry: patient (unless anonymised), study date, description and size.

        A study that gives neither patient nor date (image folders, entries kept before
        records existed) is named by its path, the only thing that tells it apart; when
        anonymised, by its description instead (a path often carries the patient's name).
        """
        patient = "" if anonymise else readable_name(self.patient_name)
        if not patient and not self.study_date and not anonymise:
            return self.path
        size = ", ".join(p for p in (self.modality, self._images()) if p)
        description = self.description + (f" ({size})" if size else "") if self.description else size
        parts = [patient, readable_date(self.study_date), description]
        return SEPARATOR.join(p for p in parts if p) or "Study (name hidden)"

    def _images(self) -> str:
        if not self.n_slices:
            return ""
        return f"{self.n_slices} image{'s' if self.n_slices != 1 else ''}"
