"""nn: neural networks on the public API of `autograd_core`, with PyTorch's names.

- modules: `Module`, `Parameter`, `Sequential`, `ModuleList`, `ModuleDict`, `Linear`, `MLP`,
  `Maxout`, `DyT`
- activations (modules here, functions in `nn.functional`): Sigmoid, Tanh, ReLU, LeakyReLU,
  PReLU, ELU, Softplus, SiLU, Swish, GELU, HardSigmoid, HardLogistic, HardTanh, Softmax,
  LogSoftmax
- losses: MSELoss, L1Loss, HuberLoss, CrossEntropyLoss, NLLLoss, BCELoss, BCEWithLogitsLoss
- regularization: Dropout, BatchNorm1d, LayerNorm, `l1_penalty`, `l2_penalty`
- sequence models: RNN, LSTM, GRU and their cells (`nn.recurrent`), Embedding,
  MultiheadAttention (`nn.attention`; `F.scaled_dot_product_attention`), the Transformer's
  encoder and decoder layers and stacks, Transformer, PositionalEncoding (`nn.transformer`);
  `nn.utils.rnn.pad_sequence`
- graph networks: GCNConv (`nn.graph`; graph attention is `F.scaled_dot_product_attention`
  with the adjacency as its mask)
- convolutional networks: Conv1d, Conv2d, ConvTranspose2d, MaxPool2d, AvgPool2d,
  AdaptiveAvgPool2d (`nn.convolution`), Flatten, BatchNorm2d, Dropout2d; the course's
  landmark architectures in `nn.models` (LeNet5, VGGBlock, InceptionBlock, BasicBlock, ResNet)
- `nn.init`, `nn.optim` (+ `nn.optim.lr_scheduler`), `nn.utils`, `nn.data`, `nn.datasets`
  (digits, a photo, The Time Machine with a character tokenizer, seeded copy, reverse, sort
  and addition tasks, 2-D toy problems)
- `nn.transforms`: seeded image augmentation of batches (N, C, H, W) (flips, crops, AlexNet's
  PCA colour augmentation, Normalize, Compose), for `DataLoader(..., transform=...)`
- training: `fit`, `evaluate`, `predict`, `History`, `EarlyStopping`
- checkpoints: `save`, `load` (.npz, never pickle; a model, optimizer, scheduler and loader
  state with the epoch in one file)

Reproducibility: `nn.manual_seed(0)` reseeds the generator that initialization and dropout
use by default; or pass `generator=` (a seed or `np.random.Generator`) to the layers and
`seed=` to `DataLoader`.

Importing nn never imports tqdm or matplotlib; they load when a progress bar or plot is made.
"""

from nn import convolution, data, datasets, functional, init, models, optim, transforms, utils
from nn.attention import MultiheadAttention
from nn.convolution import (
    AdaptiveAvgPool2d,
    AvgPool2d,
    Conv1d,
    Conv2d,
    ConvTranspose2d,
    MaxPool2d,
)
from nn.embedding import Embedding
from nn.functional import l1_penalty, l2_penalty
from nn.graph import GCNConv
from nn.init import manual_seed
from nn.layers import (
    ACTIVATIONS,
    ELU,
    GELU,
    MLP,
    BatchNorm1d,
    BatchNorm2d,
    Dropout,
    Dropout2d,
    DyT,
    Flatten,
    HardLogistic,
    HardSigmoid,
    Hardsigmoid,
    HardTanh,
    Hardtanh,
    Identity,
    LayerNorm,
    LeakyReLU,
    Linear,
    LogSigmoid,
    LogSoftmax,
    Maxout,
    PReLU,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Swish,
    Tanh,
    make_activation,
)
from nn.losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
)
from nn.module import Module, ModuleDict, ModuleList, Parameter, Sequential
from nn.recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from nn.serialization import CheckpointError, load, save
from nn.training import EarlyStopping, History, evaluate, fit, predict
from nn.transformer import (
    PositionalEncoding,
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)

__all__ = [
    "ACTIVATIONS",
    "ELU",
    "GELU",
    "GRU",
    "LSTM",
    "MLP",
    "RNN",
    "AdaptiveAvgPool2d",
    "AvgPool2d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "CheckpointError",
    "Conv1d",
    "Conv2d",
    "ConvTranspose2d",
    "CrossEntropyLoss",
    "Dropout",
    "Dropout2d",
    "DyT",
    "EarlyStopping",
    "Embedding",
    "Flatten",
    "GCNConv",
    "GRUCell",
    "HardLogistic",
    "HardSigmoid",
    "HardTanh",
    "Hardsigmoid",
    "Hardtanh",
    "History",
    "HuberLoss",
    "Identity",
    "L1Loss",
    "LSTMCell",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSigmoid",
    "LogSoftmax",
    "MSELoss",
    "MaxPool2d",
    "Maxout",
    "Module",
    "ModuleDict",
    "ModuleList",
    "MultiheadAttention",
    "NLLLoss",
    "PReLU",
    "Parameter",
    "PositionalEncoding",
    "RNNBase",
    "RNNCell",
    "RNNCellBase",
    "ReLU",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "Swish",
    "Tanh",
    "Transformer",
    "TransformerDecoder",
    "TransformerDecoderLayer",
    "TransformerEncoder",
    "TransformerEncoderLayer",
    "convolution",
    "data",
    "datasets",
    "evaluate",
    "fit",
    "functional",
    "init",
    "l1_penalty",
    "l2_penalty",
    "load",
    "make_activation",
    "manual_seed",
    "models",
    "optim",
    "predict",
    "save",
    "transforms",
    "utils",
]
