"""core.io.resources finds the bundled files in a checkout, in an installed wheel and when frozen."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import core.io.resources
from core.io.resources import RESOURCES_PACKAGE, resource_path, resources_dir
from tests.conftest import REPO_ROOT


def test_checkout_uses_its_own_resources_folder() -> None:
    assert resources_dir() == REPO_ROOT / "resources"
    assert resource_path("models", "default.safetensors").is_file()
    assert resource_path("samples", "city_street.png").is_file()


def test_frozen_app_uses_the_bundle_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resource_path("models", "default.safetensors") == tmp_path / "resources" / "models" / "default.safetensors"


def test_installed_layout_finds_the_package_through_importlib(tmp_path: Path) -> None:
    # The layout a wheel installs: core/ and roadstudio_resources/ side by side in site-packages,
    # no pyproject.toml above them. Run in a fresh interpreter that cannot see the checkout.
    site = tmp_path / "site-packages"
    (site / "core" / "io").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "core" / "__init__.py", site / "core")
    shutil.copy(REPO_ROOT / "core" / "io" / "__init__.py", site / "core" / "io")
    shutil.copy(Path(core.io.resources.__file__), site / "core" / "io")
    (site / RESOURCES_PACKAGE / "models").mkdir(parents=True)
    (site / RESOURCES_PACKAGE / "__init__.py").write_text("")
    (site / RESOURCES_PACKAGE / "models" / "default.safetensors").write_bytes(b"weights")
    probe = "from core.io.resources import resource_path; print(resource_path('models', 'default.safetensors'))"
    # -I: no PYTHONPATH, no current folder on sys.path; the fake site-packages goes first.
    out = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(site)!r}); {probe}"],
                         capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert Path(out.stdout.strip()) == site / RESOURCES_PACKAGE / "models" / "default.safetensors"
