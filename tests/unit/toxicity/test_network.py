"""The network member's training parts (skipped where torch, an optional `train` extra, is absent):
the masked loss ignores untested labels, and the exported ONNX graph computes what torch computes."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hygeia.toxicity.network import (  # noqa: E402
    export_onnx,
    masked_bce,
    predict_network,
    train_network,
)
from hygeia.toxicity.network_inputs import NetworkConfig  # noqa: E402
from hygeia.toxicity.network_member import NetworkMember, open_session  # noqa: E402

SMALL = NetworkConfig(hidden=(16, 8), epochs=3, batch_size=32, min_column_count=2)


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = ((rng.uniform(size=(120, 40)) < 0.3) * rng.integers(1, 4, size=(120, 40))).astype(np.float32)
    y = (x[:, :3] > 0).astype(np.float32)
    y[rng.uniform(size=y.shape) < 0.2] = np.nan
    return x, y


def test_masked_loss_ignores_untested_labels() -> None:
    logits = torch.tensor([[2.0, -1.0], [0.5, 3.0]])
    labels = torch.tensor([[1.0, float("nan")], [0.0, float("nan")]])
    expected = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.tensor([2.0, 0.5]), torch.tensor([1.0, 0.0])
    )
    assert torch.isclose(masked_bce(logits, labels), expected)
    changed = labels.clone()
    changed[:, 1] = torch.tensor([float("nan"), float("nan")])
    logits_other = logits.clone()
    logits_other[:, 1] = torch.tensor([-9.0, 9.0])  # untested column: any value, same loss
    assert torch.isclose(masked_bce(logits_other, changed), expected)


@pytest.mark.parametrize("activation", ["relu", "selu"])
def test_network_learns_a_visible_signal(activation: str) -> None:
    x, y = _data()
    config = NetworkConfig(
        hidden=(32,), epochs=20, batch_size=32, learning_rate=1e-2, min_column_count=2, activation=activation
    )
    network = train_network(x, y, config, 0)
    p = predict_network(network, x)
    tested = ~np.isnan(y[:, 0])
    active, inactive = p[tested & (y[:, 0] == 1), 0], p[tested & (y[:, 0] == 0), 0]
    assert active.mean() > inactive.mean() + 0.2


@pytest.mark.parametrize("activation", ["relu", "selu"])
def test_onnx_export_matches_torch(tmp_path, activation: str) -> None:  # type: ignore[no-untyped-def]
    x, y = _data(1)
    network = train_network(x, y, replace(SMALL, activation=activation, dropout=0.1), 0)
    path = tmp_path / "net.onnx"
    path.write_bytes(export_onnx(network, x.shape[1]))
    member = NetworkMember("net", None, [open_session(path, x.shape[1], 3)])  # type: ignore[arg-type]
    assert np.allclose(member.predict(x), predict_network(network, x), atol=1e-5)


def test_selu_network_starts_self_normalising() -> None:
    """LeCun-normal weights (variance 1 / fan-in) and zero biases: SELU's fixed point needs both."""
    x, y = _data(3)
    config = replace(SMALL, hidden=(400, 300), epochs=0, activation="selu")
    network = train_network(x, y, config, 0)
    weights = [network.first_weight, *(m.weight.T for m in network.body if isinstance(m, torch.nn.Linear))]
    for w in weights:
        assert abs(float(w.detach().std()) * w.shape[0] ** 0.5 - 1.0) < 0.05
    assert not any(float(m.bias.detach().abs().max()) for m in network.body if isinstance(m, torch.nn.Linear))
    assert any(isinstance(m, torch.nn.AlphaDropout) for m in network.body)


def test_unknown_activation_is_refused() -> None:
    x, y = _data(4)
    with pytest.raises(ValueError, match="activation"):
        train_network(x, y, replace(SMALL, activation="tanh"), 0)


def test_onnx_graph_with_wrong_width_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    x, y = _data(2)
    path = tmp_path / "net.onnx"
    path.write_bytes(export_onnx(train_network(x, y, SMALL, 0), x.shape[1]))
    with pytest.raises(ValueError, match="features"):
        open_session(path, x.shape[1] + 1, 3)
