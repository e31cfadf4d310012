"""core.render.batch_render: batched, overlapped rendering of many label maps (infer folders, eval splits)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.render import batch_render
from core.render.batch_render import JobReport, Rendered, render_many, switch_pays_back
from core.weights.checkpoints import load_weights
from core.render.infer import Predictor
from tests.core.test_cli_infer import make_weights, scene


@pytest.fixture
def predictor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Predictor:
    monkeypatch.setenv("ROADSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    return Predictor(load_weights(make_weights(tmp_path / "tiny.safetensors")), "cpu", backend="eager")


def test_results_in_input_order_equal_predict_with_failures_per_item(predictor: Predictor) -> None:
    maps = [scene(32, 48, seed=i) for i in range(5)] + [scene(37, 70, seed=9)] + [scene(32, 48, seed=7)]
    items = list(range(len(maps))) + [99]  # 99: its load fails

    def load(i: int) -> np.ndarray:
        if i == 99:
            raise OSError("unreadable")
        return maps[i]

    saved: list[int] = []
    report = JobReport()
    results = list(render_many(predictor, items, load, lambda r: saved.append(r.item), batch_size=3,
                               report=report))
    assert [r.item for r in results] == items
    assert sorted(saved) == list(range(len(maps)))
    for r in results[:-1]:
        assert r.ok and r.photo is not None and r.backend == "eager"
        assert r.photo.shape == maps[r.item].shape + (3,)
        assert r.photo is not None
        assert np.abs(r.photo.astype(int) - predictor.predict(maps[r.item]).astype(int)).max() <= 1
    assert isinstance(results[-1].error, OSError) and results[-1].photo is None
    assert report.rendered == len(maps) and report.failed == 1 and report.batch_size == 3


def test_a_failing_save_fails_its_item_only(predictor: Predictor) -> None:
    def save(r: Rendered[int]) -> None:
        if r.item == 1:
            raise OSError("disk full")

    results = list(render_many(predictor, [0, 1, 2], lambda i: scene(32, 32, seed=i), save))
    assert [r.ok for r in results] == [True, False, True]
    assert results[1].ids is not None and results[1].photo is None


def test_variation_renders_exactly_like_predict(predictor: Predictor) -> None:
    maps = [scene(32, 32, seed=i) for i in range(3)]
    results = list(render_many(predictor, maps, variation=5))
    for ids, r in zip(maps, results, strict=True):
        assert r.photo is not None and np.array_equal(r.photo, predictor.predict(ids, variation=5))


def test_an_iterable_that_raises_propagates(predictor: Predictor) -> None:
    def items():
        yield scene(32, 32)
        raise RuntimeError("dataset went away")

    with pytest.raises(RuntimeError, match="dataset went away"):
        list(render_many(predictor, items()))


def test_payback_rule() -> None:
    assert not switch_pays_back(10, 0.5, setup_s=12, speedup=1.3)  # saves ~1.2 s
    assert switch_pays_back(200, 0.5, setup_s=12, speedup=1.3)  # saves ~23 s
    assert not switch_pays_back(1000, 0.5, setup_s=1, speedup=1.0)


def test_planned_job_switches_to_onnxruntime_when_it_pays_and_remembers_the_cost(
        predictor: Predictor, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("onnxruntime")
    monkeypatch.setattr(batch_render, "DEFAULT_SETUP_S", 0.0)
    monkeypatch.setattr(batch_render, "DEFAULT_SPEEDUP", 2.0)
    maps = [scene(32, 32, seed=i) for i in range(12)]
    report = JobReport()
    results = list(render_many(predictor, maps, batch_size=2, plan=True, report=report))
    assert [r.backend for r in results[:4]] == ["eager"] * 4
    assert {r.backend for r in results[4:]} == {"onnxruntime"}, report.decision
    assert report.decision.startswith("onnxruntime after 4 maps")
    for ids, r in zip(maps, results, strict=True):
        assert r.photo is not None
        assert np.abs(r.photo.astype(int) - predictor.predict(ids).astype(int)).max() <= 1
    remembered = batch_render._read_timings()
    assert len(remembered) == 1 and next(iter(remembered.values()))["setup_s"] > 0


def test_planned_short_job_stays_eager(predictor: Predictor) -> None:
    report = JobReport()
    results = list(render_many(predictor, [scene(32, 32, seed=i) for i in range(6)], batch_size=2, plan=True,
                               report=report))
    assert {r.backend for r in results} == {"eager"}
    assert report.decision.startswith("eager: a switch would not pay back")
