"""`ich-viewer report PATH --out FILE.pdf`: open, segment, measure and report one study headless.

Exit codes: 0 report written; 1 the study could not be read or the report
could not be written; 2 the segmentation model is not available.
"""

from __future__ import annotations

import sys

from ich_viewer.commands import reading
from ich_viewer.commands.reading import MODEL_HELP

EXIT_OK, EXIT_FAILED, EXIT_NO_MODEL = 0, 1, 2


def add_parser(sub) -> None:
    p = sub.add_parser("report", help="write the PDF report for a study")
    p.add_argument("path")
    p.add_argument("--out", required=True, help="the PDF file to write")
    p.add_argument("--anonymise", action="store_true", help="leave patient identifiers out")
    p.add_argument("--cpu", action="store_true", help="never use a GPU")
    p.add_argument("--model", help=MODEL_HELP)
    p.set_defaults(run=lambda args: run_report(args.path, args.out, args.anonymise, args.cpu, args.model))


def _error(message: str) -> None:
    print(f"ich-viewer report: {message}", file=sys.stderr)


def run_report(path, out, anonymise: bool = False, force_cpu: bool = False, model: str | None = None) -> int:
    """Write the PDF report of the study at path to out; returns the exit code."""
    from ich_viewer.atomic import ExportError
    from ich_viewer.report import formatting as fmt
    from ich_viewer.report.pdf import build_report
    from ich_viewer.study.errors import StudyLoadError
    from ich_viewer.study.loader import open_study
    from ich_viewer.study.model import NOT_HU_RESULT

    try:
        study = open_study(path)
    except (StudyLoadError, OSError) as error:
        _error(f"cannot open the study: {error}")
        return EXIT_FAILED
    if not study.assessable:  # no verdict on values that are not HU: say so, write nothing
        _error(f"{path}: {NOT_HU_RESULT} ({study.not_hu_reason}); no report written.")
        return EXIT_FAILED
    engine = reading.load_engine(force_cpu, "report", model)
    if engine is None:
        return EXIT_NO_MODEL
    read = reading.segment_and_measure(study, engine)
    try:
        # --out is the user's explicit choice, so the study's own folder is allowed.
        written = build_report(study, read.findings, read.segmentation, out, anonymise=anonymise,
                               allow_study_folder=True)
    except ExportError as error:
        _error(str(error))
        return EXIT_FAILED
    print(f"{fmt.detection_text(read.findings)}; volume {fmt.volume_text(study, read.findings)}")
    print(f"Report written to {written}")
    return EXIT_OK

