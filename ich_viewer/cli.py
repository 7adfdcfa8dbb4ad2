"""One entry point: the viewer (default) and the headless commands of ich_viewer.commands.

Heavy modules (Qt, TensorFlow) are imported inside the command that needs
them, so `ich-viewer --help` and the headless commands start quickly.
"""

from __future__ import annotations

import argparse
import sys

from ich_viewer.commands import evaluate, report, segment, self_test, train, view

COMMANDS = (view, segment, report, train, evaluate, self_test)


def _build_parser() -> tuple[argparse.ArgumentParser, set[str]]:
    """The parser, and the names of its commands."""
    parser = argparse.ArgumentParser(
        prog="ich-viewer",
        description="Review head CT with intracranial hemorrhage segmentation. "
        "With no command, opens the viewer (on PATH if given).",
    )
    sub = parser.add_subparsers(dest="command")
    for command in COMMANDS:
        command.add_parser(sub)
    return parser, set(sub.choices)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--self-test"]:  # the spelling the bundle and its users know
        argv[0] = "self-test"
    parser, names = _build_parser()
    # `ich-viewer PATH` and `ich-viewer --sample` mean `ich-viewer view ...`.
    if not argv or argv[0] not in (*names, "-h", "--help"):
        argv = ["view", *argv]
    args = parser.parse_args(argv)
    return args.run(args)
