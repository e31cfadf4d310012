"""The segmenter networks score exactly as they did before RoadSegNet and ContextSegNet were merged
into core.eval.segnet: the bundled segmenters (both RoadSegNets: the 11-class FCN-score judge and the
19-class photo segmenter) and a ContextSegNet and a RoadSegNet with seeded weights, on a fixed
input, against logits recorded from the separate modules (segnet.py, ctxnet.py) of version 0.3.0.
Regenerate only for a deliberate change: python -m tests.core.test_segmenter_networks"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest
import torch
from torch import nn

from core.eval.segmenter import Segmenter, bundled_segmenter_path
from core.eval.segnet import ContextSegNet, RoadSegNet, SegNetConfig

RECORDED = Path(__file__).with_name("segmenter_outputs.npz")
SEEDED = {"roadsegnet": RoadSegNet, "context": ContextSegNet}


def fixed_input() -> torch.Tensor:
    """A 64×96 RGB frame (0..255): diagonal ramps with seeded noise, the same on every machine."""
    y, x = np.mgrid[0:64, 0:96]
    image = np.stack([(2 * x + y) % 256, (3 * y) % 256, (x * y) % 256], axis=-1).astype(np.float64)
    image = np.clip(image + np.random.default_rng(0).normal(0, 10, image.shape), 0, 255).astype(np.float32)
    return torch.from_numpy(image).permute(2, 0, 1)[None]


def fill_weights(net: nn.Module) -> nn.Module:
    """Every float tensor of the state, in key order, from one seeded generator (BatchNorm
    variances kept positive): weights that do not depend on how the network draws its init."""
    rng = np.random.default_rng(1)
    with torch.no_grad():
        for key, tensor in sorted(net.state_dict().items()):
            if not tensor.is_floating_point():
                continue
            values = rng.normal(0.0, 0.2, tuple(tensor.shape))
            if key.endswith("running_var"):
                values = np.abs(values) + 0.5
            tensor.copy_(torch.from_numpy(values))
    return net


def _logits(net: nn.Module) -> np.ndarray:
    """The network's logits on the fixed input, every 4th pixel: (1, classes, 16, 24)."""
    with torch.inference_mode():
        return net.eval()(fixed_input()).numpy()[..., ::4, ::4]


def _seeded(arch: str) -> nn.Module:
    return fill_weights(SEEDED[arch](SegNetConfig(num_classes=19, width=8, arch=arch)))


def _check(got: np.ndarray, key: str) -> None:
    expected = np.load(RECORDED)[key]
    assert got.shape == expected.shape
    # Recorded on one machine; another CPU's kernels may round differently in the last bits.
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-3)
    assert np.array_equal(got.argmax(axis=1), expected.argmax(axis=1))


@pytest.mark.parametrize("key", ["camvid11", "city19"])
def test_bundled_segmenter_scores_a_fixed_input_as_recorded(key: str, one_torch_thread: None) -> None:
    model = Segmenter.load(bundled_segmenter_path(key)).model
    assert type(model) is RoadSegNet
    _check(_logits(model), key)


@pytest.mark.parametrize("arch", sorted(SEEDED))
def test_each_network_with_seeded_weights_scores_as_recorded(arch: str, one_torch_thread: None) -> None:
    _check(_logits(_seeded(arch)), f"seeded_{arch}")


if __name__ == "__main__":
    torch.set_num_threads(1)
    recorded = {key: _logits(Segmenter.load(bundled_segmenter_path(key)).model) for key in ("camvid11", "city19")}
    recorded.update({f"seeded_{arch}": _logits(_seeded(arch)) for arch in SEEDED})
    np.savez_compressed(RECORDED, **cast(dict[str, Any], recorded))
    print(f"wrote {RECORDED}")


def test_widening_a_roadsegnet_keeps_its_logits_and_lets_the_new_channels_learn() -> None:
    """core.eval.widen: width 4 -> 6 gives the narrow network's logits (eval mode, trained-like
    BatchNorm statistics; up to float summation order over the added zero weights), and the new
    channels reach the loss, so training can use them."""
    from core.eval.widen import widen_roadsegnet

    narrow = cast(RoadSegNet, fill_weights(RoadSegNet(SegNetConfig(num_classes=5, width=4))))
    torch.manual_seed(3)
    wide = RoadSegNet(SegNetConfig(num_classes=5, width=6))
    widen_roadsegnet(narrow, wide)
    x = fixed_input()
    narrow.eval()
    wide.eval()
    with torch.no_grad():
        expected = narrow(x)
        assert float((wide(x) - expected).abs().max()) < 1e-5
        assert float(expected.abs().max()) > 0.1  # a real comparison, not of two near-zero outputs
    head = cast(nn.Conv2d, wide.head).weight  # (classes, 3 · width, 1, 1): the 6 new input channels start at 0
    assert torch.count_nonzero(head[:, 12:]) == 0 and torch.equal(head[:, :12], cast(nn.Conv2d, narrow.head).weight)
    wide.train()
    loss = wide(x).logsumexp(dim=1).mean()
    loss.backward()
    assert head.grad is not None and float(head.grad[:, 12:].abs().sum()) > 0  # new channels reach the loss
    with pytest.raises(ValueError, match="cannot widen"):
        widen_roadsegnet(wide, narrow)
