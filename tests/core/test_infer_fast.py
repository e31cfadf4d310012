"""Fast inference paths: same output as eager within 1e-3, and eager whenever they fail."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from core.errors import ConfigError
from core.render.fast import ENV_BACKEND, FastPath, default_backend
from core.render.fast import aoti_runner, ort_runner
from core.config import Norm
from core.render.infer import Predictor
from tests.core.test_infer import _loaded, _scene

pytest.importorskip("onnxruntime")


def _eager(**kw: object) -> Predictor:
    return Predictor(_loaded(**kw), "cpu", backend="eager")  # type: ignore[arg-type]  # kw: _loaded's keywords


def _close(a: np.ndarray, b: np.ndarray) -> None:
    assert np.abs(a.astype(int) - b.astype(int)).max() <= 1  # 1e-3 in [-1, 1] is < 1 uint8 step


def test_onnxruntime_matches_eager_and_is_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    eager = _eager()
    fast = Predictor(_loaded(), "cpu", backend="onnxruntime", cache_dir=tmp_path)
    assert fast.backend == "onnxruntime" and fast.backend_notes == []
    assert fast.fast.max_abs_diff["onnxruntime"] <= 1e-3
    for shape in [(64, 96), (37, 53)]:
        ids = _scene(*shape)
        x = eager.encode(np.pad(ids, ((0, (-shape[0]) % 32), (0, (-shape[1]) % 32)), mode="reflect"))
        assert float((fast.forward(x) - eager.forward(x)).abs().max()) <= 1e-3
        _close(fast.predict(ids), eager.predict(ids))
        assert fast.last_backend == "onnxruntime"
    assert len(list(tmp_path.glob("ort-*.onnx"))) == 1
    # a second load of the same weights reuses the cached graph: no export
    monkeypatch.setattr(ort_runner, "export_onnx_bytes", lambda *a, **k: (_ for _ in ()).throw(AssertionError))
    again = Predictor(_loaded(), "cpu", backend="onnxruntime", cache_dir=tmp_path)
    assert again.backend == "onnxruntime"
    # other weights get their own graph
    monkeypatch.undo()
    Predictor(_loaded(seed=1), "cpu", backend="onnxruntime", cache_dir=tmp_path)
    assert len(list(tmp_path.glob("ort-*.onnx"))) == 2


def test_a_backend_that_fails_to_build_falls_back_to_eager(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("exporter exploded")

    monkeypatch.setattr(ort_runner, "build_ort_runner", broken)
    fast = Predictor(_loaded(), "cpu", backend="onnxruntime", cache_dir=tmp_path)
    assert fast.backend == "eager"
    assert any("onnxruntime unavailable (RuntimeError: exporter exploded)" in n for n in fast.backend_notes)
    ids = _scene(40, 40)
    assert np.array_equal(fast.predict(ids), _eager().predict(ids))


def test_a_backend_that_disagrees_with_eager_is_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = ort_runner.OrtRunner.__call__
    monkeypatch.setattr(ort_runner.OrtRunner, "__call__", lambda self, x: original(self, x) + 0.01)
    fast = Predictor(_loaded(), "cpu", backend="onnxruntime", cache_dir=tmp_path)
    assert fast.backend == "eager"
    assert any("differs from eager by 0.01" in n for n in fast.backend_notes)


def test_a_failure_at_run_time_falls_back_for_good(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = Predictor(_loaded(), "cpu", backend="onnxruntime", cache_dir=tmp_path)
    assert fast.backend == "onnxruntime"

    def crash(self: object, x: torch.Tensor) -> torch.Tensor:
        raise MemoryError("out of memory in the session")

    monkeypatch.setattr(ort_runner.OrtRunner, "__call__", crash)
    ids = _scene(32, 64)
    assert np.array_equal(fast.predict(ids), _eager().predict(ids))
    assert fast.last_backend == "eager" and fast.backend == "eager"
    assert any("failed at run time (MemoryError" in n for n in fast.backend_notes)


def test_variation_always_runs_the_seeded_eager_model(tmp_path: Path) -> None:
    loaded = _loaded(depth=6, ngf=8)
    fast = Predictor(loaded, "cpu", backend="onnxruntime", cache_dir=tmp_path)
    ids = _scene(64, 64)
    out = fast.predict(ids, variation=3)
    assert fast.last_backend == "eager"
    assert np.array_equal(out, Predictor(_loaded(depth=6, ngf=8), "cpu", backend="eager").predict(ids, variation=3))


def test_backend_choice_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="backend = 'tensorrt'"):
        Predictor(_loaded(depth=3), "cpu", backend="tensorrt")
    monkeypatch.setenv(ENV_BACKEND, "fastest")
    with pytest.raises(ConfigError, match="ROADSTUDIO_INFER_BACKEND = 'fastest'"):
        default_backend()
    monkeypatch.setenv(ENV_BACKEND, "onnxruntime")
    assert default_backend() == "onnxruntime"


def test_auto_without_a_compiler_uses_onnxruntime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aoti_runner, "aoti_unavailable_reason", lambda: "no C++ compiler found (g++ or clang++)")
    fast = Predictor(_loaded(), "cpu", backend="auto", cache_dir=tmp_path)
    fast.predict(_scene(32, 32))
    assert fast.backend == "onnxruntime" and fast.fast.building is None
    assert "aoti unavailable (no C++ compiler found (g++ or clang++))" in fast.backend_notes
    assert not list(tmp_path.glob("aoti-*"))


def test_the_app_never_uses_aoti_whose_runner_holds_the_gil(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """interactive=True (the app's preview and compare workers): `auto` neither compiles nor
    loads AOTInductor packages, whose runner would freeze the GUI thread while it runs; outside
    the app, the same Predictor starts the background compile."""
    builds: list[tuple[int, int]] = []
    monkeypatch.setattr(aoti_runner, "aoti_unavailable_reason", lambda: None)  # as with a compiler
    monkeypatch.setattr(aoti_runner, "start_aoti_build", lambda model, cfg, paths, shape, tol: builds.append(shape))
    monkeypatch.setattr(aoti_runner, "AotiRunner", lambda *a, **k: (_ for _ in ()).throw(AssertionError("loaded")))
    app = Predictor(_loaded(), "cpu", backend="auto", cache_dir=tmp_path, interactive=True)
    for _ in range(2):
        app.predict(_scene(32, 32))
    assert app.last_backend == "onnxruntime" and builds == []
    batch = Predictor(_loaded(), "cpu", backend="auto", cache_dir=tmp_path)
    batch.predict(_scene(32, 32))
    assert builds == [(32, 32)]


def test_eager_only_on_other_devices() -> None:
    path = FastPath(_loaded().model, _loaded().config, torch.device("meta"), "auto")
    assert path.name == "eager" and "CPU-only" in path.notes[0]


@pytest.mark.slow
@pytest.mark.timeout(3600)  # the compile takes ~1 CPU-minute; a loaded machine stretches it, never fails it
def test_aoti_background_build_then_cached_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reason = aoti_runner.aoti_unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    ids = _scene(30, 60)  # padded to 32×64
    expected = _eager(depth=5, ngf=4).predict(ids)
    fast = Predictor(_loaded(depth=5, ngf=4), "cpu", backend="auto", cache_dir=tmp_path)
    first = fast.predict(ids)  # starts the background compile for 32×64, answers with ONNX Runtime
    assert fast.last_backend == "onnxruntime" and fast.fast.building == (32, 64)
    _close(first, expected)
    fast.fast.wait_for_build()  # until the compile process ends (an event, not a clock)
    fast.predict(ids)
    notes = " ".join(fast.backend_notes)
    if "differs from eager" in notes:  # the check did its job; the app stays on ONNX Runtime
        assert fast.last_backend == "onnxruntime"
        assert list(tmp_path.glob("aoti-*.rejected"))
        return
    assert fast.fast.choice[(32, 64)] in ("aoti", "onnxruntime"), notes  # the faster one here
    assert fast.last_backend == fast.fast.choice[(32, 64)]
    assert set(fast.fast.race_ms[(32, 64)]) == {"aoti", "onnxruntime"}
    assert fast.fast.max_abs_diff["aoti"] <= 1e-3
    _close(fast.predict(ids), expected)
    assert not list(tmp_path.glob("aoti-*.lock")) and not list(tmp_path.glob("aoti-*.safetensors"))
    # the next load finds the package: no compile
    monkeypatch.setattr(aoti_runner, "compile_aoti_package", lambda *a, **k: (_ for _ in ()).throw(AssertionError))
    again = Predictor(_loaded(depth=5, ngf=4), "cpu", backend="aoti", cache_dir=tmp_path)
    _close(again.predict(ids), expected)
    assert again.last_backend == "aoti"


@pytest.mark.parametrize("norm", ["batch", "instance", "none"])
def test_batchnorm_folding_is_exact(norm: Norm) -> None:
    from core.render.fast.fold import fold_batchnorm

    loaded = _loaded(depth=5, ngf=4, norm=norm)
    folded = fold_batchnorm(loaded.model)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in loaded.model.modules()) == (norm == "batch")
    x = Predictor(loaded, "cpu", backend="eager").encode(_scene(32, 64))
    with torch.no_grad():
        expected = loaded.model(x)
        assert float((folded(x) - expected).abs().max()) < 1e-5
        assert float(expected.std()) > 0.05
