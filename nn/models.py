"""The course's landmark CNNs, small enough to train on the bundled 8x8 digits in seconds:
`LeNet5`, and the building blocks of VGG (`VGGBlock`), GoogLeNet (`InceptionBlock`) and
ResNet (`BasicBlock`, with a small `ResNet` around it).

Submodule names follow the PyTorch sources they come from (PyTorch's LeNet tutorial, d2l's
VGG and Inception, torchvision's ResNet), so state-dict keys read the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import autograd_core as ag
from autograd_core import Tensor
from nn import functional as F
from nn import init
from nn.convolution import AdaptiveAvgPool2d, Conv2d, MaxPool2d
from nn.layers import BatchNorm2d, Flatten, Generator, Linear, ReLU, _size, activation_factory
from nn.module import Module, Sequential


class LeNet5(Module):
    """LeNet-5 (LeCun et al., 1998) in its modern form, as PyTorch's tutorial: ReLU and max
    pooling (`activation=` takes another name or module class, e.g. "sigmoid" as in 1998):

        conv1 5x5, 6 channels -> act -> 2x2 max pool -> conv2 5x5, 16 channels -> act ->
        2x2 max pool -> resize to 16x5x5 -> fc1 120 -> act -> fc2 84 -> act -> fc3 classes

    Both convolutions pad by 2 ("same") and an `AdaptiveAvgPool2d((5, 5))` resizes the last
    feature maps to the classic 16x5x5 = 400 features, so one network takes 32x32 (LeCun's
    input: maps 8x8), 28x28 (MNIST: 7x7) and the bundled 8x8 digits (2x2, each value
    repeated over the 5x5 grid) while keeping the classic layer widths and LeNet-5's 61,706
    parameters (for one input channel and ten classes).
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        *,
        activation: str | Callable[[], Module] = "relu",
        generator: Generator = None,
    ) -> None:
        super().__init__()
        in_channels = _size("LeNet5", "in_channels", in_channels)
        num_classes = _size("LeNet5", "num_classes", num_classes)
        make_act = activation_factory(activation, "LeNet5")
        rng = init.as_generator(generator)
        self.conv1 = Conv2d(in_channels, 6, 5, padding=2, generator=rng)
        self.act1 = make_act()
        self.pool1 = MaxPool2d(2)
        self.conv2 = Conv2d(6, 16, 5, padding=2, generator=rng)
        self.act2 = make_act()
        self.pool2 = MaxPool2d(2)
        self.resize = AdaptiveAvgPool2d((5, 5))
        self.flatten = Flatten()
        self.fc1 = Linear(16 * 5 * 5, 120, generator=rng)
        self.act3 = make_act()
        self.fc2 = Linear(120, 84, generator=rng)
        self.act4 = make_act()
        self.fc3 = Linear(84, num_classes, generator=rng)

    def forward(self, x: Any) -> Tensor:
        x = self.pool1(self.act1(self.conv1(x)))
        x = self.pool2(self.act2(self.conv2(x)))
        x = self.flatten(self.resize(x))
        return self.fc3(self.act4(self.fc2(self.act3(self.fc1(x)))))


class VGGBlock(Sequential):
    """VGG's block (Simonyan & Zisserman, 2015): num_convs 3x3 convolutions with padding 1
    (each keeping the size) and ReLU, then a 2x2 max pool halving height and width. Stacking
    small kernels sees as far as one large kernel with fewer parameters.

    A Sequential, numbered as d2l's `vgg_block`: 0 conv, 1 ReLU, 2 conv, ..., last the pool.
    """

    def __init__(
        self, in_channels: int, out_channels: int, num_convs: int, *, generator: Generator = None
    ) -> None:
        in_channels = _size("VGGBlock", "in_channels", in_channels)
        out_channels = _size("VGGBlock", "out_channels", out_channels)
        num_convs = _size("VGGBlock", "num_convs", num_convs)
        rng = init.as_generator(generator)
        layers: list[Module] = []
        for i in range(num_convs):
            channels = in_channels if i == 0 else out_channels
            layers += [Conv2d(channels, out_channels, 3, padding=1, generator=rng), ReLU()]
        super().__init__(*layers, MaxPool2d(2, stride=2))


def _pair(name: str, value: Any) -> tuple[int, int]:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"InceptionBlock: {name} must be a pair of channel counts, got {value!r}")
    return _size("InceptionBlock", name, value[0]), _size("InceptionBlock", name, value[1])


class InceptionBlock(Module):
    """GoogLeNet's Inception block (Szegedy et al., 2015), as d2l's `Inception`: four
    branches that see the input at different scales, concatenated on the channel axis:

        b1: 1x1 conv (c1)
        b2: 1x1 conv (c2[0]) -> 3x3 conv, padding 1 (c2[1])
        b3: 1x1 conv (c3[0]) -> 5x5 conv, padding 2 (c3[1])
        b4: 3x3 max pool, stride 1, padding 1 -> 1x1 conv (c4)

    each conv followed by ReLU. Height and width are kept; the output has
    c1 + c2[1] + c3[1] + c4 channels. The 1x1 convolutions before the large kernels cut the
    channel count, and with it the cost.
    """

    def __init__(
        self,
        in_channels: int,
        c1: int,
        c2: Sequence[int],
        c3: Sequence[int],
        c4: int,
        *,
        generator: Generator = None,
    ) -> None:
        super().__init__()
        in_channels = _size("InceptionBlock", "in_channels", in_channels)
        c1, c4 = _size("InceptionBlock", "c1", c1), _size("InceptionBlock", "c4", c4)
        c2, c3 = _pair("c2", c2), _pair("c3", c3)
        rng = init.as_generator(generator)
        self.b1_1 = Conv2d(in_channels, c1, 1, generator=rng)
        self.b2_1 = Conv2d(in_channels, c2[0], 1, generator=rng)
        self.b2_2 = Conv2d(c2[0], c2[1], 3, padding=1, generator=rng)
        self.b3_1 = Conv2d(in_channels, c3[0], 1, generator=rng)
        self.b3_2 = Conv2d(c3[0], c3[1], 5, padding=2, generator=rng)
        self.b4_1 = MaxPool2d(3, stride=1, padding=1)
        self.b4_2 = Conv2d(in_channels, c4, 1, generator=rng)
        self.out_channels = c1 + c2[1] + c3[1] + c4

    def forward(self, x: Any) -> Tensor:
        b1 = F.relu(self.b1_1(x))
        b2 = F.relu(self.b2_2(F.relu(self.b2_1(x))))
        b3 = F.relu(self.b3_2(F.relu(self.b3_1(x))))
        b4 = F.relu(self.b4_2(self.b4_1(x)))
        return ag.cat([b1, b2, b3, b4], dim=1)


class BasicBlock(Module):
    """ResNet-18's residual block (He et al., 2016), as torchvision's `BasicBlock`:

        out = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))

    with 3x3 convolutions without bias (BatchNorm's shift replaces it), the first one strided.
    The shortcut is the identity, or, when the stride or the channel count changes, a 1x1
    strided convolution and BatchNorm2d (`downsample`) so the two terms have one shape. The
    block only has to learn the residual out - x, and the addition passes gradients to
    earlier layers undiminished.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        *,
        generator: Generator = None,
    ) -> None:
        super().__init__()
        in_channels = _size("BasicBlock", "in_channels", in_channels)
        out_channels = _size("BasicBlock", "out_channels", out_channels)
        stride = _size("BasicBlock", "stride", stride)
        rng = init.as_generator(generator)
        self.conv1 = Conv2d(
            in_channels, out_channels, 3, stride, padding=1, bias=False, generator=rng
        )
        self.bn1 = BatchNorm2d(out_channels)
        self.relu = ReLU()
        self.conv2 = Conv2d(out_channels, out_channels, 3, padding=1, bias=False, generator=rng)
        self.bn2 = BatchNorm2d(out_channels)
        self.downsample: Module | None = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = Sequential(
                Conv2d(in_channels, out_channels, 1, stride, bias=False, generator=rng),
                BatchNorm2d(out_channels),
            )

    def forward(self, x: Any) -> Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + shortcut)


class ResNet(Module):
    """A small ResNet for small images (8x8 digits, 28x28 MNIST), laid out as torchvision's:

        conv1 3x3 (widths[0], no bias) -> bn1 -> relu
        -> layer1 .. layerK: blocks_per_stage BasicBlocks each, widths[k] channels, the first
           block of every stage after the first with stride 2 (halving height and width)
        -> avgpool (global average: one number per channel) -> fc (num_classes)

    Unlike ImageNet's ResNet-18 the stem keeps the resolution (no 7x7 stride-2 convolution
    and max pool), which an 8x8 input could not afford; global average pooling makes the
    head independent of the input size.
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        widths: Sequence[int] = (16, 32),
        blocks_per_stage: int = 1,
        *,
        generator: Generator = None,
    ) -> None:
        super().__init__()
        in_channels = _size("ResNet", "in_channels", in_channels)
        num_classes = _size("ResNet", "num_classes", num_classes)
        blocks_per_stage = _size("ResNet", "blocks_per_stage", blocks_per_stage)
        widths = [_size("ResNet", f"widths[{i}]", w) for i, w in enumerate(widths)]
        if not widths:
            raise ValueError("ResNet: widths must list at least one stage width")
        rng = init.as_generator(generator)
        self.conv1 = Conv2d(in_channels, widths[0], 3, padding=1, bias=False, generator=rng)
        self.bn1 = BatchNorm2d(widths[0])
        self.relu = ReLU()
        channels = widths[0]
        for stage, width in enumerate(widths):
            blocks = []
            for i in range(blocks_per_stage):
                stride = 2 if stage > 0 and i == 0 else 1
                blocks.append(BasicBlock(channels, width, stride, generator=rng))
                channels = width
            self.add_module(f"layer{stage + 1}", Sequential(*blocks))
        self.avgpool = AdaptiveAvgPool2d((1, 1))
        self.flatten = Flatten()
        self.fc = Linear(channels, num_classes, generator=rng)
        self.widths = tuple(widths)

    def forward(self, x: Any) -> Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        for stage in range(len(self.widths)):
            x = getattr(self, f"layer{stage + 1}")(x)
        return self.fc(self.flatten(self.avgpool(x)))
