#!/usr/bin/env bash
# Build the PyInstaller bundle (dist/ich-viewer/) and prove it works with no network:
# the bundled `report` command segments the sample study inside a network namespace
# with no interfaces (needs root for unshare; skipped with a message otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/pip install -q -e ".[bundle]"
.venv/bin/pyinstaller build_installer.spec --noconfirm
bundle=dist/ich-viewer/ich-viewer
du -sh dist/ich-viewer
out=$(mktemp -d)
run() { if [ "$(id -u)" = 0 ]; then unshare --net "$@"; else echo "(not root: network left on)"; "$@"; fi; }
run env -i HOME="$out" PATH=/usr/bin:/bin QT_QPA_PLATFORM=offscreen "$bundle" report resources/sample/066 --out "$out/report.pdf"
ls -l "$out/report.pdf"
