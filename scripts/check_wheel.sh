#!/usr/bin/env bash
# Build the sdist and wheel (python -m build), install the wheel NON-editable into a second
# virtual environment and run the installed `roadstudio --self-test` and `roadstudio-cli info` on
# the bundled default model, from outside the checkout: proves that the wheel alone carries the
# code, the models and the sample scenes.
#
# Usage: bash scripts/check_wheel.sh [VENV]   (default: .venv, which must have torch and the
#        project's dependencies, e.g. the README's set-up; `build` comes with the dev extra)
#
# The second environment reuses VENV's installed dependencies instead of downloading torch again
# (minutes and gigabytes): their files are hard-linked into it (same disk, no copies), VENV's own
# (editable) roadstudio is left out, the wheel is installed with pip, and `pip check` confirms that
# the wheel's requirements are met there.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${1:-.venv}
OUT=dist/wheel
TEST_VENV=dist/wheel-venv
rm -rf "$OUT" "$TEST_VENV" && mkdir -p "$OUT"

"$VENV/bin/python" -m build --outdir "$OUT" . >"$OUT/build.log" 2>&1 || { cat "$OUT/build.log"; exit 1; }
wheel=$(ls "$OUT"/roadstudio-*.whl)
echo "built: $(cd "$OUT" && ls -- *.whl *.tar.gz | tr "\n" " ")($(du -h "$wheel" | cut -f1) wheel)"

"$VENV/bin/python" -m venv --without-pip "$TEST_VENV"  # pip comes with the linked packages
src_site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
dst_site=$("$TEST_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
cp -al "$src_site/." "$dst_site/" 2>/dev/null || cp -a "$src_site/." "$dst_site/"  # hard links need one disk
rm -rf "$dst_site"/__editable__*roadstudio* "$dst_site"/roadstudio-*.dist-info "$dst_site"/roadstudio*.egg-link \
       "$dst_site"/core "$dst_site"/desktop "$dst_site"/roadstudio_resources
"$TEST_VENV/bin/python" -m pip install -q --no-deps --no-index "$wheel"
"$TEST_VENV/bin/python" -m pip check

env_dir=$(cd "$TEST_VENV" && pwd)
cd "$(mktemp -d)"  # nothing of the checkout on sys.path
model=$("$env_dir/bin/python" - "$env_dir" <<'PY'
import sys
from pathlib import Path

import core
from core.io.resources import resource_path

env = Path(sys.argv[1]).resolve()
model = resource_path("models", "default.safetensors")
for path in (Path(core.__file__), model):
    if env not in path.resolve().parents or not path.is_file():
        sys.exit(f"check_wheel: {path} is not an installed file of {env}")
print(model)
PY
)
echo "installed model: $model"
QT_QPA_PLATFORM=offscreen "$env_dir/bin/roadstudio" --self-test
"$env_dir/bin/roadstudio-cli" info "$model" | head -3
