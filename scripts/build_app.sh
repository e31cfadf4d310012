#!/usr/bin/env bash
# Build the packaged app with PyInstaller and run its self-test; prints build time and size.
# Usage: bash scripts/build_app.sh [PYTHON]   (default: .venv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-.venv/bin/python}
start=$(date +%s)
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN build.spec
end=$(date +%s)
app=dist/roadstudio/roadstudio
echo "build time: $((end - start)) s"
echo "bundle size: $(du -sh dist/roadstudio | cut -f1)"
"$app" --version
QT_QPA_PLATFORM=offscreen "$app" --self-test
# The packaged app opens on a rendered sample scene: take a screenshot of its window.
QT_QPA_PLATFORM=offscreen "$app" --open resources/samples/city_street.png --screenshot dist/frozen-app.png
echo "frozen app screenshot: dist/frozen-app.png"
