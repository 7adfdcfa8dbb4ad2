"""Reading a Study's QC warnings in tests: as the viewer lists them, or by the file they name."""

from __future__ import annotations

from ich_viewer.study.qc import QcWarning


def shown(study) -> list[str]:
    """The warnings as the viewer lists them: the text, then the files."""
    return [str(w) for w in study.warnings]


def naming(study, file_name: str) -> QcWarning:
    """The warning whose files include file_name (fails when there is none)."""
    found = [w for w in study.warnings if file_name in w.files]
    assert found, study.warnings
    return found[0]
