"""One entry point: the GUI (default) and the headless subcommands.

Heavy modules (Qt, TensorFlow) are imported inside the command that needs
them, so `ich-viewer --help` and the headless commands start quickly.
"""

from __future__ import annotations

import argparse
import sys

SUBCOMMANDS = ("view", "train", "evaluate", "segment", "report")
MODEL_HELP = (
    "a shipped model by name (a file name in models/ without .keras); "
    "default: ich_unet25d_final, ours trained on all patients"
)


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ich-viewer",
        description="Review head CT with intracranial hemorrhage segmentation. "
        "With no subcommand, opens the viewer (on PATH if given).",
    )
    parser.add_argument("--self-test", action="store_true",
                        help="check this installation offscreen on the sample study (open, segment, "
                             "report, every export) and exit 0 if all is well")
    sub = parser.add_subparsers(dest="command")

    view = sub.add_parser("view", help="open the viewer (the default)")
    view.add_argument("path", nargs="?", help="a DICOM folder or file, an image folder or a CT-ICH patient")
    view.add_argument("--sample", action="store_true", help="open the bundled sample study")

    from ich_viewer.training import commands as training_commands

    training_commands.add_train_parser(sub)
    training_commands.add_evaluate_parser(sub)

    seg = sub.add_parser("segment", help="segment studies headless and write masks and findings")
    seg.add_argument("paths", nargs="+")
    seg.add_argument("--out", required=True, help="output folder")
    seg.add_argument("--force", action="store_true", help="redo studies whose outputs exist")
    seg.add_argument("--cpu", action="store_true", help="never use a GPU")
    seg.add_argument("--model", help=MODEL_HELP)

    rep = sub.add_parser("report", help="write the PDF report for a study")
    rep.add_argument("path")
    rep.add_argument("--out", required=True, help="the PDF file to write")
    rep.add_argument("--anonymise", action="store_true", help="leave patient identifiers out")
    rep.add_argument("--cpu", action="store_true", help="never use a GPU")
    rep.add_argument("--model", help=MODEL_HELP)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # `ich-viewer PATH` and `ich-viewer --sample` mean `ich-viewer view ...`.
    if not argv or (argv[0] not in SUBCOMMANDS and argv[0] not in ("-h", "--help", "--self-test")):
        argv = ["view", *argv]
    args = _build_parser().parse_args(argv)
    if args.self_test:
        from ich_viewer.self_test import run_self_test

        return run_self_test()

    if args.command == "view":
        from ich_viewer.ui.app import run_viewer

        return run_viewer(path=args.path, sample=args.sample)
    if args.command in ("train", "evaluate"):
        return args.run(args)
    if args.command == "segment":
        from ich_viewer.segmentation.batch import run_batch

        return run_batch(args.paths, args.out, force=args.force, force_cpu=args.cpu, model=args.model)
    if args.command == "report":
        from ich_viewer.report.command import run_report

        return run_report(args.path, args.out, anonymise=args.anonymise, force_cpu=args.cpu,
                          model=args.model)
    raise AssertionError(args.command)
