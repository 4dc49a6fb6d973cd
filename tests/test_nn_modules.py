"""Module mechanics: registration, traversal, modes, state dicts (round trips, strict
errors, all-or-nothing loading), repr, the layers (Linear, MLP, Dropout, BatchNorm1d,
LayerNorm, PReLU, Maxout, DyT), initialization, and PyTorch interop of an MLP."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd_core as ag
import nn
from tests.numeric import check_reverse


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(3, 2, generator=0)
        self.scale = nn.Parameter(np.ones(2))
        self.register_buffer("calls", np.zeros((), dtype=np.int64))
        self.note = "plain attribute"

    def forward(self, x: ag.Tensor) -> ag.Tensor:
        self.calls += 1
        return self.linear(x) * self.scale


def test_assigning_parameters_modules_and_buffers_registers_them_in_order() -> None:
    block = Block()
    # as PyTorch: a module's own parameters first, then its children's
    assert [name for name, _ in block.named_parameters()] == [
        "scale",
        "linear.weight",
        "linear.bias",
    ]
    assert list(block.state_dict()) == ["scale", "calls", "linear.weight", "linear.bias"]
    assert [name for name, _ in block.named_modules()] == ["", "linear"]
    assert list(block.children()) == [block.linear]
    assert block.note == "plain attribute" and "note" not in block.state_dict()
    with pytest.raises(TypeError, match=r"Block\.scale is a parameter"):
        block.scale = ag.Tensor([1.0, 2.0])
    with pytest.raises(AttributeError, match="missing"):
        _ = block.missing


def test_subclass_that_forgets_super_init_gets_a_clear_error() -> None:
    class Broken(nn.Module):
        def __init__(self) -> None:
            self.w = nn.Parameter([1.0])

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Broken()


def test_shared_parameters_are_listed_once() -> None:
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(model.parameters())) == 2
    assert len(list(model.modules())) == 3  # Sequential, Linear (once), ReLU


def test_call_runs_forward_inside_the_module_scope() -> None:
    model = nn.Sequential(nn.Linear(3, 2, generator=1), nn.Tanh())
    out = model(ag.Tensor(np.ones((1, 3)), requires_grad=True))
    assert out.grad_fn.scope == (model, model[1])
    assert out.grad_fn.parents()[0].scope == (model, model[0])


def test_zero_grad_train_and_eval_reach_every_submodule() -> None:
    model = nn.MLP([3, 4, 2], dropout=0.5)
    model(ag.Tensor(np.ones((2, 3)))).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    model.eval()
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_repr_is_a_tree_with_each_modules_settings() -> None:
    model = nn.MLP([64, 32, 10], activation="gelu", dropout=0.1, norm="layer")
    assert repr(model) == (
        "MLP(\n"
        "  (0): Linear(in_features=64, out_features=32, bias=True)\n"
        "  (1): LayerNorm((32,), eps=1e-05, elementwise_affine=True)\n"
        "  (2): GELU(approximate='none')\n"
        "  (3): Dropout(p=0.1)\n"
        "  (4): Linear(in_features=32, out_features=10, bias=True)\n"
        ")"
    )


def test_state_dict_round_trip_restores_outputs_exactly() -> None:
    x = ag.Tensor(np.random.default_rng(0).standard_normal((5, 4)))
    a = nn.MLP([4, 8, 3], norm="batch", generator=1)
    a(x)  # moves the running statistics
    b = nn.MLP([4, 8, 3], norm="batch", generator=2)
    b.load_state_dict(a.state_dict())
    a.eval(), b.eval()
    np.testing.assert_array_equal(a(x).data, b(x).data)
    state = a.state_dict()
    state["0.weight"][...] = 0  # a copy, not a view into the model
    assert np.any(a.layers[0].weight.data != 0)


def test_strict_load_lists_every_problem_and_changes_nothing() -> None:
    model = nn.MLP([4, 8, 3], generator=0)
    before = model.state_dict()
    bad = dict(before)
    del bad["0.bias"]
    bad["2.weight"] = np.zeros((3, 9))
    bad["9.weight"] = np.zeros(1)
    bad["0.weight"] = np.zeros((8, 4))  # valid, but must not be applied
    with pytest.raises(RuntimeError) as error:
        model.load_state_dict(bad)
    message = str(error.value)
    assert "missing key: 0.bias" in message
    assert "unexpected key: 9.weight" in message
    assert "2.weight: shape (3, 9) in the state dict, (3, 8) in the model" in message
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])
    result = nn.MLP([4, 8, 3]).load_state_dict(
        {k: v for k, v in before.items() if k != "0.bias"} | {"extra": np.ones(1)},
        strict=False,
    )
    assert result.missing_keys == ["0.bias"] and result.unexpected_keys == ["extra"]


def test_load_casts_to_the_parameter_dtype() -> None:
    model = nn.Linear(2, 2, dtype=np.float32)
    model.load_state_dict({"weight": np.eye(2), "bias": [1, 2]})
    assert model.weight.dtype == np.float32
    np.testing.assert_array_equal(model.bias.data, [1.0, 2.0])


def test_linear_computes_x_wt_plus_b_and_names_wrong_widths() -> None:
    layer = nn.Linear(3, 2, generator=0)
    x = np.random.default_rng(1).standard_normal((4, 3))
    np.testing.assert_allclose(layer(ag.Tensor(x)).data, x @ layer.weight.data.T + layer.bias.data)
    assert layer.weight.shape == (2, 3) and layer.bias.shape == (2,)
    with pytest.raises(ValueError, match=r"Linear\(in_features=3, out_features=2\).*\(4, 5\)"):
        layer(ag.Tensor(np.zeros((4, 5))))
    assert nn.Linear(3, 2, bias=False).bias is None
    assert list(nn.Linear(3, 2, bias=False).state_dict()) == ["weight"]


def test_linear_init_is_pytorchs_default_and_reproducible() -> None:
    layer = nn.Linear(400, 300, generator=7)
    bound = 1 / math.sqrt(400)
    assert np.abs(layer.weight.data).max() <= bound and np.abs(layer.bias.data).max() <= bound
    assert np.std(layer.weight.data) == pytest.approx(bound / math.sqrt(3), rel=0.02)
    again = nn.Linear(400, 300, generator=7)
    np.testing.assert_array_equal(layer.weight.data, again.weight.data)
    nn.manual_seed(3)
    first = nn.MLP([5, 4, 2]).state_dict()
    nn.manual_seed(3)
    second = nn.MLP([5, 4, 2]).state_dict()
    for key in first:
        np.testing.assert_array_equal(first[key], second[key])


def test_init_functions_follow_their_formulas() -> None:
    rng = np.random.default_rng(0)
    w = nn.Parameter(np.empty((200, 300)))
    nn.init.xavier_uniform_(w, generator=rng)
    assert np.abs(w.data).max() <= math.sqrt(6 / 500)
    nn.init.kaiming_normal_(w, nonlinearity="relu", generator=rng)
    assert np.std(w.data) == pytest.approx(math.sqrt(2 / 300), rel=0.02)
    nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu", generator=rng)
    assert np.std(w.data) == pytest.approx(math.sqrt(2 / 200), rel=0.02)
    nn.init.xavier_normal_(w, gain=nn.init.calculate_gain("tanh"), generator=rng)
    assert np.std(w.data) == pytest.approx(5 / 3 * math.sqrt(2 / 500), rel=0.02)
    nn.init.kaiming_uniform_(w, a=math.sqrt(5), generator=rng)
    assert np.abs(w.data).max() <= 1 / math.sqrt(300)
    nn.init.constant_(w, 0.5)
    assert np.all(w.data == 0.5)
    nn.init.zeros_(w)
    assert not w.data.any()
    nn.init.normal_(w, 1.0, 0.01, generator=rng)
    assert np.mean(w.data) == pytest.approx(1.0, abs=1e-3)
    f32 = nn.Parameter(np.empty((3, 3), np.float32))
    assert nn.init.uniform_(f32, -1, 1).dtype == np.float32
    assert nn.init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        nn.init.xavier_uniform_(nn.Parameter(np.empty(3)))


def test_dropout_is_inverted_in_training_and_the_identity_in_eval() -> None:
    drop = nn.Dropout(0.25, generator=0)
    x = ag.Tensor(np.ones((200, 50)))
    out = drop(x).data
    assert set(np.unique(out)) == {0.0, 1 / 0.75}
    assert np.mean(out == 0) == pytest.approx(0.25, abs=0.02)
    assert np.mean(out) == pytest.approx(1.0, abs=0.03)
    drop.eval()
    assert drop(x) is x


def test_batchnorm_uses_batch_statistics_in_training_and_running_ones_in_eval() -> None:
    rng = np.random.default_rng(0)
    bn = nn.BatchNorm1d(3, momentum=0.1)
    x = rng.standard_normal((16, 3)) * 2 + 5
    out = bn(ag.Tensor(x)).data
    np.testing.assert_allclose(out.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(0), 1, rtol=1e-4)
    np.testing.assert_allclose(bn.running_mean, 0.1 * x.mean(0))
    np.testing.assert_allclose(bn.running_var, 0.9 + 0.1 * x.var(0, ddof=1))
    assert int(bn.num_batches_tracked) == 1
    bn.eval()
    expected = (x - bn.running_mean) / np.sqrt(bn.running_var + 1e-5)
    np.testing.assert_allclose(bn(ag.Tensor(x)).data, expected)
    assert int(bn.num_batches_tracked) == 1
    bn.train()
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(ag.Tensor(np.ones((1, 3))))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\).*\(4, 2\)"):
        bn(ag.Tensor(np.ones((4, 2))))


def test_batchnorm_and_layernorm_gradients_match_central_differences() -> None:
    rng = np.random.default_rng(1)
    x, gamma, beta = rng.standard_normal((5, 3)), rng.standard_normal(3), rng.standard_normal(3)

    def batch(x: ag.Tensor, g: ag.Tensor, b: ag.Tensor) -> ag.Tensor:
        return nn.functional.batch_norm(x, None, None, g, b, training=True)

    def layer(x: ag.Tensor, g: ag.Tensor, b: ag.Tensor) -> ag.Tensor:
        return nn.functional.layer_norm(x, (3,), g, b)

    check_reverse(batch, [x, gamma, beta], rng)
    check_reverse(layer, [x, gamma, beta], rng)


def test_layernorm_normalizes_each_sample() -> None:
    x = np.random.default_rng(2).standard_normal((4, 6)) * 3 + 1
    out = nn.LayerNorm(6)(ag.Tensor(x)).data
    np.testing.assert_allclose(out.mean(1), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(1), 1, rtol=1e-4)


def test_learnable_activations_have_their_parameters() -> None:
    assert nn.PReLU().weight.data.tolist() == [0.25]
    assert nn.PReLU(4, init=0.1).weight.shape == (4,)
    dyt = nn.DyT(5)
    assert [n for n, _ in dyt.named_parameters()] == ["alpha", "weight", "bias"]
    assert dyt.alpha.data.tolist() == [0.5]
    maxout = nn.Maxout(6, 4, k=3, generator=0)
    assert maxout.weight.shape == (3, 4, 6) and maxout.bias.shape == (3, 4)
    assert maxout(ag.Tensor(np.ones((2, 6)))).shape == (2, 4)
    assert repr(maxout) == "Maxout(in_features=6, out_features=4, k=3)"


def test_mlp_layout_and_arguments() -> None:
    model = nn.MLP([2, 8, 8, 1], activation="tanh", output_activation="sigmoid", dropout=0.2)
    kinds = [type(m).__name__ for m in model.layers]
    assert kinds == ["Linear", "Tanh", "Dropout", "Linear", "Tanh", "Dropout", "Linear", "Sigmoid"]
    bn = nn.MLP([2, 4, 1], norm="batch", activation=lambda: nn.LeakyReLU(0.2))
    assert list(bn.state_dict()) == [
        "0.weight",
        "0.bias",
        "1.weight",
        "1.bias",
        "1.running_mean",
        "1.running_var",
        "1.num_batches_tracked",
        "3.weight",
        "3.bias",
    ]
    with pytest.raises(ValueError, match="unknown activation 'relu7'"):
        nn.MLP([2, 2], output_activation="relu7")
    with pytest.raises(ValueError, match="sizes"):
        nn.MLP([3])


def test_shape_errors_name_the_layer_path() -> None:
    model = nn.MLP([4, 8, 3])
    with pytest.raises(ValueError) as error:
        model(ag.Tensor(np.zeros((2, 5))))
    assert str(error.value) == (
        "0: Linear(in_features=4, out_features=8): expected input of shape (..., 4), got (2, 5)"
    )
    nested = nn.Sequential(nn.Identity(), nn.Sequential(nn.ReLU(), nn.Linear(3, 1)))
    with pytest.raises(ValueError, match=r"^1\.1: Linear\(in_features=3"):
        nested(ag.Tensor(np.zeros((2, 2))))


def test_sequential_and_modulelist_index_like_lists() -> None:
    layers = nn.ModuleList([nn.Linear(2, 2), nn.ReLU()])
    layers.append(nn.Linear(2, 1))
    assert len(layers) == 3 and isinstance(layers[-1], nn.Linear)
    assert [n for n, _ in layers.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    seq = nn.Sequential(*layers)
    assert isinstance(seq[1:], nn.Sequential) and len(seq[1:]) == 2
    with pytest.raises(IndexError, match="out of range"):
        seq[5]


def test_float32_model_stays_float32() -> None:
    model = nn.MLP([3, 4, 2], dtype=np.float32, norm="batch")
    out = model(ag.Tensor(np.ones((2, 3), np.float32)))
    nn.CrossEntropyLoss()(out, np.array([0, 1])).backward()
    assert out.dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in model.parameters())


def test_mlp_state_dict_loads_into_torch_sequential_and_back() -> None:
    torch = pytest.importorskip("torch")
    ours = nn.MLP([5, 7, 6, 3], activation="tanh", norm="batch", generator=0)
    x = np.random.default_rng(3).standard_normal((4, 5))
    ours(ag.Tensor(x))  # train-mode pass: running statistics move
    theirs = torch.nn.Sequential(
        torch.nn.Linear(5, 7, dtype=torch.float64),
        torch.nn.BatchNorm1d(7, dtype=torch.float64),
        torch.nn.Tanh(),
        torch.nn.Linear(7, 6, dtype=torch.float64),
        torch.nn.BatchNorm1d(6, dtype=torch.float64),
        torch.nn.Tanh(),
        torch.nn.Linear(6, 3, dtype=torch.float64),
    )
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.layers.state_dict().items()})
    ours.eval(), theirs.eval()
    expected = theirs(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(ours(ag.Tensor(x)).data, expected, rtol=1e-12, atol=1e-12)
    back = nn.MLP([5, 7, 6, 3], activation="tanh", norm="batch")
    back.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    back.eval()
    np.testing.assert_allclose(back(ag.Tensor(x)).data, expected, rtol=1e-12, atol=1e-12)


ACTIVATION_MODULES = [
    (nn.Sigmoid(), nn.functional.sigmoid),
    (nn.Tanh(), nn.functional.tanh),
    (nn.ReLU(), nn.functional.relu),
    (nn.LeakyReLU(0.2), lambda x: nn.functional.leaky_relu(x, 0.2)),
    (nn.ELU(0.5), lambda x: nn.functional.elu(x, 0.5)),
    (nn.Softplus(2.0, 10.0), lambda x: nn.functional.softplus(x, 2.0, 10.0)),
    (nn.SiLU(), nn.functional.silu),
    (nn.Swish(0.5), lambda x: nn.functional.swish(x, 0.5)),
    (nn.GELU("tanh"), lambda x: nn.functional.gelu(x, "tanh")),
    (nn.HardSigmoid(), nn.functional.hard_sigmoid),
    (nn.HardLogistic(), nn.functional.hard_logistic),
    (nn.HardTanh(-2.0, 2.0), lambda x: nn.functional.hard_tanh(x, -2.0, 2.0)),
    (nn.Softmax(dim=0), lambda x: nn.functional.softmax(x, dim=0)),
    (nn.LogSoftmax(), nn.functional.log_softmax),
    (nn.PReLU(), lambda x: nn.functional.prelu(x, ag.Tensor([0.25]))),
]


@pytest.mark.parametrize(
    ("module", "function"),
    ACTIVATION_MODULES,
    ids=[type(m).__name__ for m, _ in ACTIVATION_MODULES],
)
def test_each_activation_module_computes_its_function(module: nn.Module, function) -> None:
    x = ag.Tensor(np.linspace(-5, 5, 12).reshape(3, 4))
    np.testing.assert_array_equal(module(x).data, function(x).data)
    assert isinstance(repr(module), str) and repr(module).startswith(type(module).__name__)


def test_fit_is_silent_when_stdout_is_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    X, y = nn.datasets.make_circles(32, noise=0.05, seed=0)
    loader = nn.data.DataLoader(nn.data.TensorDataset(X, y), batch_size=8)
    model = nn.MLP([2, 8, 2], generator=0)
    nn.fit(model, nn.CrossEntropyLoss(), nn.optim.SGD(model.parameters(), lr=0.1), loader, 2)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
