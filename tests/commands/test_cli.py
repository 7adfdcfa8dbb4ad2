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


def test_segmenting_and_reporting_need_no_tensorflow(tmp_path):
    """The shipped networks run in ONNX Runtime: the bundle leaves TensorFlow out (build_installer.spec)."""
    code = ("import sys; from ich_viewer.cli import main; from ich_viewer import paths; "
            f"sample = str(paths.sample_study_dir()); out = {str(tmp_path)!r}; "
            "assert main(['segment', sample, '--out', out + '/seg', '--cpu']) == 0; "
            "assert main(['report', sample, '--out', out + '/report.pdf', '--cpu']) == 0; "
            "print([m for m in ('tensorflow', 'keras') if m in sys.modules])")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip().splitlines()[-1] == "[]"


def test_training_without_tensorflow_says_what_to_do(monkeypatch, capsys):
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "tensorflow" else find_spec(name, *a))
    assert cli.main(["train", "--export-onnx"]) == 2
    assert cli.main(["evaluate"]) == 2
    assert "needs TensorFlow, which this installation (the offline bundle) leaves out" in capsys.readouterr().err
