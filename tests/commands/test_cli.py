"""The entry point: one parser for every command, and no heavy import before a command runs."""

import subprocess
import sys

from ich_viewer import cli


def test_the_entry_point_imports_nothing_heavy():
    """The viewer's first paint must not wait for numpy, pydicom, Qt or TensorFlow to load for
    the parser: each command imports what it needs when it runs."""
    heavy = ("numpy", "pydicom", "PySide6", "tensorflow", "keras")
    code = f"import sys, ich_viewer.cli; print([m for m in {heavy!r} if m in sys.modules])"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"


def test_every_command_is_in_the_one_parser():
    parser, names = cli._build_parser()
    assert names == {"view", "segment", "report", "train", "evaluate", "self-test"}
    assert parser.parse_args(["view", "some/study"]).path == "some/study"
    assert parser.parse_args(["self-test"]).run is not None
