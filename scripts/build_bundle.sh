#!/usr/bin/env bash
# Build the PyInstaller bundle (dist/ich-viewer/), prove it works with no network, and pack it.
#
# The bundle's own `--self-test` (open the sample offscreen, segment it, report, every export) runs
# inside a network namespace with no interfaces, with an empty environment and HOME. Then
# dist/ich-viewer.tar.gz and its .sha256 are written. Prints the sizes and the self-test's times.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/pip install -q -e ".[bundle]"
.venv/bin/pyinstaller build_installer.spec --noconfirm --log-level WARN
bundle=dist/ich-viewer
if [ -e "$bundle/_internal/tensorflow" ]; then
    echo "ERROR: TensorFlow is in the bundle; build_installer.spec leaves it out (ONNX Runtime runs the networks)" >&2
    exit 1
fi
echo "bundle: $(du -sm "$bundle" | cut -f1) MiB unpacked"
du -sm "$bundle"/_internal/* | sort -rn | sed -n "1,5s/^/  largest: /p"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
offline=()
if unshare --net true 2>/dev/null; then
    offline=(unshare --net)
    echo "self-test of the bundle in a network namespace with no interfaces:"
else
    echo "WARNING: no network namespace here (unshare needs root); the bundle's self-test runs with" \
         "the network on, and only the test suite's socket guard shows it makes no connection"
fi
"${offline[@]}" env -i HOME="$scratch" LANG=C.UTF-8 PATH=/usr/bin:/bin "$bundle/ich-viewer" --self-test

tar -C dist -czf dist/ich-viewer.tar.gz ich-viewer
(cd dist && sha256sum ich-viewer.tar.gz > ich-viewer.tar.gz.sha256)
echo "archive: dist/ich-viewer.tar.gz, $(du -sm dist/ich-viewer.tar.gz | cut -f1) MiB," \
     "sha256 $(cut -d' ' -f1 dist/ich-viewer.tar.gz.sha256)"
