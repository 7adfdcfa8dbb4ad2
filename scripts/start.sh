#!/usr/bin/env bash
# Set up (if needed) and open the viewer on the bundled sample study.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/ich-viewer --sample "$@"
