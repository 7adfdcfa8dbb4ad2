"""`ich-viewer [view] [PATH]`: open the viewer (the default command)."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser("view", help="open the viewer (the default)")
    p.add_argument("path", nargs="?", help="a DICOM folder or file, an image folder or a CT-ICH patient")
    p.add_argument("--sample", action="store_true", help="open the bundled sample study")
    p.set_defaults(run=_view)


def _view(args) -> int:
    from ich_viewer.ui.app import run_viewer  # Qt only when the window opens

    return run_viewer(path=args.path, sample=args.sample)
