"""nn.models: LeNet5, VGGBlock, InceptionBlock, BasicBlock and a small ResNet. Each one's
output shapes on 8x8 and 28x28 inputs (LeNet5 also on 32x32), its parameter count by the
layer formulas, its state-dict keys, a short training run on the bundled digits as (N, 1, 8, 8)
images whose loss must fall, and (with torch installed) the same network written in PyTorch,
loaded with our state dict, agreeing to 1e-10 in float64 forward and backward."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autograd_core as ag
import nn
from nn.models import BasicBlock, InceptionBlock, LeNet5, ResNet, VGGBlock

TOL = 1e-10


def _count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _conv(c_in: int, c_out: int, k: int, bias: bool = True) -> int:
    """Parameters of a k x k convolution: c_out filters of c_in x k x k, plus the biases."""
    return c_out * c_in * k * k + (c_out if bias else 0)


def _head(features: int) -> list[nn.Module]:
    """A linear classifier on flattened feature maps."""
    return [nn.Flatten(), nn.Linear(features, 10, generator=0)]


# --------------------------------------------------------------------------------------------
# Shapes, parameter counts, state-dict keys
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [8, 28, 32])
def test_lenet5_classifies_8x8_28x28_and_32x32_images(size: int) -> None:
    model = LeNet5(generator=0)
    assert model(np.zeros((2, 1, size, size))).shape == (2, 10)
    colour = LeNet5(in_channels=3, num_classes=5, activation="sigmoid", generator=0)
    assert colour(np.zeros((1, 3, size, size))).shape == (1, 5)


def test_lenet5_has_the_classic_61706_parameters_and_the_tutorials_names() -> None:
    model = LeNet5()
    expected = _conv(1, 6, 5) + _conv(6, 16, 5) + (400 * 120 + 120) + (120 * 84 + 84) + 850
    assert _count(model) == expected == 61706
    layers = ("conv1", "conv2", "fc1", "fc2", "fc3")
    assert list(model.state_dict()) == [f"{n}.{p}" for n in layers for p in ("weight", "bias")]


@pytest.mark.parametrize(("size", "out"), [(8, 4), (28, 14)])
def test_vgg_block_keeps_size_through_its_convs_and_halves_it_in_the_pool(
    size: int, out: int
) -> None:
    block = VGGBlock(3, 8, num_convs=2, generator=0)
    assert block(np.zeros((2, 3, size, size))).shape == (2, 8, out, out)
    assert [type(m).__name__ for m in block] == ["Conv2d", "ReLU", "Conv2d", "ReLU", "MaxPool2d"]
    assert _count(block) == _conv(3, 8, 3) + _conv(8, 8, 3)
    assert list(block.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


@pytest.mark.parametrize("size", [8, 28])
def test_inception_block_concatenates_four_branches_and_keeps_height_and_width(size: int) -> None:
    block = InceptionBlock(4, 2, (3, 4), (1, 2), 2, generator=0)
    assert block(np.zeros((2, 4, size, size))).shape == (2, 2 + 4 + 2 + 2, size, size)
    assert block.out_channels == 10
    expected = _conv(4, 2, 1) + _conv(4, 3, 1) + _conv(3, 4, 3) + _conv(4, 1, 1)
    expected += _conv(1, 2, 5) + _conv(4, 2, 1)
    assert _count(block) == expected


def test_googlenets_first_inception_block_has_256_channels_and_its_parameter_count() -> None:
    block = InceptionBlock(192, 64, (96, 128), (16, 32), 32, generator=0)
    assert block(np.zeros((1, 192, 4, 4))).shape == (1, 256, 4, 4)
    expected = _conv(192, 64, 1) + _conv(192, 96, 1) + _conv(96, 128, 3) + _conv(192, 16, 1)
    expected += _conv(16, 32, 5) + _conv(192, 32, 1)
    assert _count(block) == expected == 163_696


def test_inception_block_branches_are_what_d2l_computes() -> None:
    block = InceptionBlock(3, 2, (2, 3), (1, 2), 1, generator=1)
    x = ag.Tensor(np.random.default_rng(0).standard_normal((2, 3, 6, 6)))
    relu = nn.functional.relu
    expected = [
        relu(block.b1_1(x)),
        relu(block.b2_2(relu(block.b2_1(x)))),
        relu(block.b3_2(relu(block.b3_1(x)))),
        relu(block.b4_2(nn.MaxPool2d(3, 1, 1)(x))),
    ]
    np.testing.assert_array_equal(block(x).data, np.concatenate([e.data for e in expected], 1))


@pytest.mark.parametrize("size", [8, 28])
def test_basic_block_projects_the_shortcut_only_when_the_shape_changes(size: int) -> None:
    same = BasicBlock(4, 4, generator=0)
    assert same.downsample is None
    assert same(np.zeros((2, 4, size, size))).shape == (2, 4, size, size)
    assert _count(same) == 2 * _conv(4, 4, 3, bias=False) + 2 * 2 * 4
    down = BasicBlock(4, 8, stride=2, generator=0)
    assert down(np.zeros((2, 4, size, size))).shape == (2, 8, size // 2, size // 2)
    assert _count(down) == (
        _conv(4, 8, 3, bias=False) + _conv(8, 8, 3, bias=False) + _conv(4, 8, 1, bias=False)
        + 3 * 2 * 8
    )  # fmt: skip
    assert "downsample.0.weight" in down.state_dict()
    assert "downsample.1.running_var" in down.state_dict()
    assert BasicBlock(4, 4, stride=2).downsample is not None


def test_basic_block_adds_its_input_back() -> None:
    """With the last BatchNorm's scale and shift at zero the residual branch outputs 0 and
    the block is relu(x): the identity path carries the input through."""
    block = BasicBlock(3, 3, generator=0)
    nn.init.zeros_(block.bn2.weight)
    x = np.random.default_rng(1).standard_normal((2, 3, 5, 5))
    np.testing.assert_array_equal(block(x).data, np.maximum(x, 0))


@pytest.mark.parametrize("size", [8, 28])
def test_resnet_classifies_8x8_and_28x28_images(size: int) -> None:
    model = ResNet(generator=0)
    assert model(np.zeros((2, 1, size, size))).shape == (2, 10)
    deeper = ResNet(3, 4, widths=(8, 16, 32), blocks_per_stage=2, generator=0)
    assert deeper(np.zeros((1, 3, size, size))).shape == (1, 4)


def test_resnet_parameters_and_torchvision_names() -> None:
    model = ResNet(in_channels=1, num_classes=10, widths=(16, 32), blocks_per_stage=1)
    stem = _conv(1, 16, 3, bias=False) + 2 * 16
    layer1 = 2 * _conv(16, 16, 3, bias=False) + 2 * 2 * 16
    layer2 = _conv(16, 32, 3, bias=False) + _conv(32, 32, 3, bias=False)
    layer2 += _conv(16, 32, 1, bias=False) + 3 * 2 * 32
    assert _count(model) == stem + layer1 + layer2 + 32 * 10 + 10
    keys = list(model.state_dict())
    assert keys[:2] == ["conv1.weight", "bn1.weight"]
    assert "layer1.0.conv1.weight" in keys and "layer2.0.downsample.0.weight" in keys
    assert "layer1.0.downsample.0.weight" not in keys
    assert keys[-2:] == ["fc.weight", "fc.bias"]


def test_models_refuse_bad_arguments() -> None:
    with pytest.raises(ValueError, match="LeNet5: num_classes"):
        LeNet5(num_classes=0)
    with pytest.raises(ValueError, match="LeNet5: unknown activation 'relu6'"):
        LeNet5(activation="relu6")
    with pytest.raises(TypeError, match="InceptionBlock: c2 must be a pair"):
        InceptionBlock(4, 2, 3, (1, 2), 2)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ResNet: widths must list"):
        ResNet(widths=())
    with pytest.raises(ValueError, match="VGGBlock: num_convs"):
        VGGBlock(3, 8, 0)


def test_a_wrong_input_names_the_layer_inside_the_model() -> None:
    with pytest.raises(ValueError, match=r"expected 1 input channels, got 3"):
        LeNet5()(np.zeros((1, 3, 28, 28)))
    with pytest.raises(ValueError, match=r"^0: Conv2d\(3, 8.*expected 3 input channels, got 1"):
        VGGBlock(3, 8, 1)(np.zeros((1, 1, 8, 8)))


# --------------------------------------------------------------------------------------------
# Training on the bundled digits, as 1x8x8 images
# --------------------------------------------------------------------------------------------


def _digits(n: int = 256) -> tuple[np.ndarray, np.ndarray]:
    X, y = nn.datasets.load_digits(normalize=True)
    return X[:n].reshape(-1, 1, 8, 8), y[:n]


TRAINABLE: list[tuple[str, Callable[[], nn.Module]]] = [
    ("lenet5", lambda: LeNet5(generator=0)),
    ("resnet", lambda: ResNet(widths=(8, 16), generator=0)),
    ("vgg_block", lambda: nn.Sequential(VGGBlock(1, 8, 2, generator=0), *_head(8 * 4 * 4))),
    ("inception_block", lambda: nn.Sequential(
        InceptionBlock(1, 4, (4, 8), (2, 4), 4, generator=0), nn.MaxPool2d(2), *_head(20 * 4 * 4)
    )),
    ("basic_block", lambda: nn.Sequential(BasicBlock(1, 8, 2, generator=0), *_head(8 * 4 * 4))),
]  # fmt: skip
"""The models, and each block with a linear classifier on its flattened feature maps."""


@pytest.mark.parametrize("make", [m for _, m in TRAINABLE], ids=[name for name, _ in TRAINABLE])
def test_training_on_digits_lowers_the_loss(make: Callable[[], nn.Module]) -> None:
    """16 Adam steps on batches of 32 of 256 digits (1x8x8): the loss on all 256 falls by
    more than a fifth (measured: by 36-94%, depending on the model)."""
    X, y = _digits()
    model = make()
    optimizer = nn.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    with ag.no_grad():
        before = loss_fn(model(X), y).item()
    for step in range(16):
        batch = slice(32 * (step % 8), 32 * (step % 8 + 1))
        loss = loss_fn(model(X[batch]), y[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with ag.no_grad():
        after = loss_fn(model(X), y).item()
    assert after < 0.8 * before, (before, after)


# --------------------------------------------------------------------------------------------
# Against the same networks written in PyTorch
# --------------------------------------------------------------------------------------------


def _torch_models(torch: Any) -> dict[str, Callable[[], Any]]:
    """The networks of nn.models written in torch with the same submodule names."""
    tnn, F = torch.nn, torch.nn.functional
    f64 = {"dtype": torch.float64}

    class TorchLeNet5(tnn.Module):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = tnn.Conv2d(1, 6, 5, padding=2, **f64)
            self.conv2 = tnn.Conv2d(6, 16, 5, padding=2, **f64)
            self.fc1, self.fc2 = tnn.Linear(400, 120, **f64), tnn.Linear(120, 84, **f64)
            self.fc3 = tnn.Linear(84, 10, **f64)

        def forward(self, x: Any) -> Any:
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = torch.flatten(F.adaptive_avg_pool2d(x, (5, 5)), 1)
            return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))

    class TorchBasicBlock(tnn.Module):  # type: ignore[misc]
        def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
            super().__init__()
            self.conv1 = tnn.Conv2d(c_in, c_out, 3, stride, 1, bias=False, **f64)
            self.bn1 = tnn.BatchNorm2d(c_out, **f64)
            self.conv2 = tnn.Conv2d(c_out, c_out, 3, 1, 1, bias=False, **f64)
            self.bn2 = tnn.BatchNorm2d(c_out, **f64)
            self.downsample = None
            if stride != 1 or c_in != c_out:
                self.downsample = tnn.Sequential(
                    tnn.Conv2d(c_in, c_out, 1, stride, bias=False, **f64),
                    tnn.BatchNorm2d(c_out, **f64),
                )

        def forward(self, x: Any) -> Any:
            shortcut = x if self.downsample is None else self.downsample(x)
            out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
            return F.relu(out + shortcut)

    class TorchResNet(tnn.Module):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = tnn.Conv2d(1, 16, 3, padding=1, bias=False, **f64)
            self.bn1 = tnn.BatchNorm2d(16, **f64)
            self.layer1 = tnn.Sequential(TorchBasicBlock(16, 16))
            self.layer2 = tnn.Sequential(TorchBasicBlock(16, 32, 2))
            self.fc = tnn.Linear(32, 10, **f64)

        def forward(self, x: Any) -> Any:
            x = self.layer2(self.layer1(F.relu(self.bn1(self.conv1(x)))))
            return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))

    class TorchInception(tnn.Module):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.b1_1 = tnn.Conv2d(3, 2, 1, **f64)
            self.b2_1, self.b2_2 = tnn.Conv2d(3, 2, 1, **f64), tnn.Conv2d(2, 3, 3, padding=1, **f64)
            self.b3_1, self.b3_2 = tnn.Conv2d(3, 1, 1, **f64), tnn.Conv2d(1, 2, 5, padding=2, **f64)
            self.b4_2 = tnn.Conv2d(3, 2, 1, **f64)

        def forward(self, x: Any) -> Any:
            b4 = F.relu(self.b4_2(F.max_pool2d(x, 3, 1, 1)))
            b1, b2 = F.relu(self.b1_1(x)), F.relu(self.b2_2(F.relu(self.b2_1(x))))
            return torch.cat([b1, b2, F.relu(self.b3_2(F.relu(self.b3_1(x)))), b4], 1)

    def vgg() -> Any:
        conv1, conv2 = tnn.Conv2d(3, 4, 3, padding=1, **f64), tnn.Conv2d(4, 4, 3, padding=1, **f64)
        return tnn.Sequential(conv1, tnn.ReLU(), conv2, tnn.ReLU(), tnn.MaxPool2d(2, 2))

    return {
        "lenet5": TorchLeNet5,
        "vgg_block": vgg,
        "inception_block": TorchInception,
        "basic_block": lambda: TorchBasicBlock(3, 6, 2),
        "resnet": TorchResNet,
    }


OURS: dict[str, tuple[Callable[[], nn.Module], int]] = {
    "lenet5": (lambda: LeNet5(generator=0), 1),
    "vgg_block": (lambda: VGGBlock(3, 4, 2, generator=0), 3),
    "inception_block": (lambda: InceptionBlock(3, 2, (2, 3), (1, 2), 2, generator=0), 3),
    "basic_block": (lambda: BasicBlock(3, 6, stride=2, generator=0), 3),
    "resnet": (lambda: ResNet(generator=0), 1),
}


@pytest.mark.parametrize("size", [8, 28])
@pytest.mark.parametrize("name", list(OURS))
def test_model_matches_the_same_network_in_pytorch(name: str, size: int) -> None:
    torch = pytest.importorskip("torch")
    make, channels = OURS[name]
    ours, theirs = make(), _torch_models(torch)[name]()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(size).standard_normal((2, channels, size, size))
    for mode in ("train", "eval"):
        getattr(ours, mode)(), getattr(theirs, mode)()
        mine, their_x = ag.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, their_out = ours(mine), theirs(their_x)
        np.testing.assert_allclose(out.data, their_out.detach().numpy(), rtol=TOL, atol=TOL)
        ours.zero_grad(), theirs.zero_grad()
        (out * out).sum().backward()
        (their_out * their_out).sum().backward()
        np.testing.assert_allclose(mine.grad.data, their_x.grad.numpy(), rtol=TOL, atol=TOL)
        their_params = dict(theirs.named_parameters())
        for key, param in ours.named_parameters():
            np.testing.assert_allclose(
                param.grad.data, their_params[key].grad.numpy(), rtol=TOL, atol=TOL, err_msg=key
            )
    for key, value in theirs.state_dict().items():  # running statistics moved alike
        np.testing.assert_allclose(ours.state_dict()[key], value.numpy(), rtol=TOL, atol=TOL)
