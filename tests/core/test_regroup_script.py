"""scripts/dev/regroup_core.py: code written against core/'s old flat layout (on another branch)
is rewritten to the new subpackages, a second run changes nothing, and the tree has no old path
left."""

from __future__ import annotations

import importlib.util
from types import ModuleType

import pytest

from tests.conftest import REPO_ROOT


@pytest.fixture(scope="module")
def regroup() -> ModuleType:
    spec = importlib.util.spec_from_file_location("regroup_core", REPO_ROOT / "scripts" / "dev" / "regroup_core.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


OLD = '''from core import __version__, provenance  # noqa: E402
from core.segment import PhotoSegmenter
import core.infer
from core.realism import RealismMap, load_critic


def edit(ids):
    from core import imageio, realism
    with mock.patch("core.fast_infer.aoti_runner.subprocess"):
        return core.infer.Predictor, realism.load_critic, RealismMap
# see core/checkpoints.py and `python -m core.fast_infer.aoti_build`; core.eval.realism is the FCN-score
CMD = "core.cli.infer_cmd", "tests/core/test_infer.py", "core/autolabel.py"
'''

NEW = '''from core import __version__  # noqa: E402
from core.render import provenance
from core.photo_labels.segment import PhotoSegmenter
import core.render.infer
from core.eval.critic import CriticMap, load_critic


def edit(ids):
    from core.io import imageio
    from core.eval import critic as realism
    with mock.patch("core.render.fast.aoti_runner.subprocess"):
        return core.render.infer.Predictor, realism.load_critic, CriticMap
# see core/weights/checkpoints.py and `python -m core.render.fast.aoti_build`; core.eval.realism is the FCN-score
CMD = "core.cli.infer_cmd", "tests/core/test_infer.py", "core/photo_labels/autolabel.py"
'''


def test_old_imports_names_and_paths_are_rewritten_once(regroup: ModuleType) -> None:
    assert regroup.rewrite_text(OLD) == NEW
    assert regroup.rewrite_text(NEW) == NEW  # idempotent: the lead may run it after every merge


def test_every_move_lands_in_a_module_that_exists(regroup: ModuleType) -> None:
    for new in regroup.MOVES.values():
        path = REPO_ROOT / new.replace(".", "/")
        assert path.with_suffix(".py").is_file() or (path / "__init__.py").is_file(), new


def test_the_tree_has_no_old_module_path_left(regroup: ModuleType) -> None:
    assert [str(p.relative_to(REPO_ROOT)) for p in regroup.rewrite_tree(REPO_ROOT, write=False)] == []
