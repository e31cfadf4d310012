"""The wheel carries everything an installed Road Studio needs: code, models, samples, licence."""

from __future__ import annotations

import email.parser
import shutil
import subprocess
import sys
import zipfile

import pytest

from core import __version__
from core.io.resources import RESOURCES_PACKAGE
from tests.conftest import REPO_ROOT

#: What setuptools reads to build the wheel (pyproject.toml's readme and license-files included).
BUILD_INPUTS = ["pyproject.toml", "setup.py", "README.md", "LICENSE", "core", "desktop", "resources"]


def _files_under(folder: str) -> list[str]:
    root = REPO_ROOT / folder
    return sorted(p.relative_to(REPO_ROOT).as_posix() for p in root.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    # Build from a copy of the inputs: setuptools writes build/ and *.egg-info beside the sources.
    src = tmp_path_factory.mktemp("src")
    for name in BUILD_INPUTS:
        path = REPO_ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy(path, src / name)
    out = tmp_path_factory.mktemp("dist")
    # No build isolation: the environment's setuptools (the dev extra asks for >= 77), no download.
    run = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                          "--wheel-dir", str(out), str(src)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    wheels = list(out.glob("*.whl"))
    assert [w.name for w in wheels] == [f"roadstudio-{__version__}-py3-none-any.whl"]
    return zipfile.ZipFile(wheels[0])


@pytest.mark.slow
def test_wheel_has_every_resource_file(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    for must in ["models/default.safetensors", "models/default.discriminator.safetensors",
                 "models/segmenter.safetensors", "models/MODEL_CARD.md", "models/SEGMENTER_CARD.md",
                 "models/photo_edit.safetensors", "models/PHOTO_EDIT_CARD.md",
                 "samples/city_street.png"]:
        assert f"{RESOURCES_PACKAGE}/{must}" in names
    # Every file of resources/ ships, including ones added later (package data is globbed).
    expected = {f"{RESOURCES_PACKAGE}/{name.removeprefix('resources/')}" for name in _files_under("resources")}
    assert expected - names == set()
    # The very bytes of the checkout, not a truncated or re-encoded copy.
    data = wheel.read(f"{RESOURCES_PACKAGE}/models/default.safetensors")
    assert data == (REPO_ROOT / "resources" / "models" / "default.safetensors").read_bytes()


@pytest.mark.slow
def test_wheel_has_every_module_and_no_test_code(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    modules = [n for n in _files_under("core") + _files_under("desktop") if n.endswith(".py")]
    assert [m for m in modules if m not in names] == []
    assert not any(n.startswith(("tests/", "benchmarks/", "scripts/", "docs/")) for n in names)


@pytest.mark.slow
def test_wheel_metadata_licence_and_entry_points(wheel: zipfile.ZipFile) -> None:
    info = f"roadstudio-{__version__}.dist-info"
    meta = email.parser.Parser().parsestr(wheel.read(f"{info}/METADATA").decode())
    assert meta["Version"] == __version__
    assert meta["License-Expression"] == "MIT"
    assert wheel.read(f"{info}/licenses/LICENSE") == (REPO_ROOT / "LICENSE").read_bytes()
    entry_points = wheel.read(f"{info}/entry_points.txt").decode()
    assert "roadstudio-cli = core.cli:main" in entry_points
    assert "roadstudio = desktop.app:main" in entry_points
