"""Generate notebooks/05_recurrent_networks.ipynb (executed, outputs stored).

Run from the repository root with the project importable (`pip install -e .`, or
PYTHONPATH pointing at the repository):

    python notebooks/build/build_05.py

The cells are assembled with nbformat, executed in a fresh kernel with cwd = notebooks/
(as the test suite does), and saved with their outputs.
"""

from __future__ import annotations

from _common import build, code, md

CELLS = [
    # ------------------------------------------------------------------------------------------
    md(r"""
    # Recurrent networks

    A recurrent network reads a sequence $x_1, x_2, \dots, x_T$ one step at a time and carries
    a hidden state $h_t$ from each step to the next. The simplest one, the Elman RNN, applies
    the same weights at every step:

    $$h_t = \tanh(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}).$$

    Reading step by step makes it serial, and what it saw early fades as the sequence goes
    on: the long-range dependency problem. Training unrolls the loop into one long graph and
    backpropagates through it (backpropagation through time, BPTT); the gradient that reaches
    an early step has been multiplied by one Jacobian per step in between, and it shrinks (or
    grows) geometrically. The LSTM and the GRU add gates that let the network keep its state
    unchanged across many steps, and with it the gradient.

    This notebook writes the three cells by hand and checks them against `nn.RNNCell`,
    `nn.LSTMCell` and `nn.GRUCell`; draws the unrolled graph of a 3-step RNN and checks BPTT's
    formula on it; measures the gradient norm through time for the three networks; trains
    them on a task that needs a memory of 49 steps; and shows exploding gradients and what
    `nn.utils.clip_grad_norm_` does about them. Seeds are fixed, so a rerun gives the same
    numbers.

    Layouts and names are PyTorch's: with `batch_first=True` a batch of sequences is
    $(N, L, \text{features})$, and the parameters are `weight_ih_l0`, `weight_hh_l0`,
    `bias_ih_l0`, `bias_hh_l0`.
    """),
    code(r"""
    import os

    # One BLAS thread (set before numpy is imported): the matrices here are small, a second
    # thread gains nothing, and on a busy machine it made training several times slower.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    %matplotlib inline
    import time

    import matplotlib.pyplot as plt
    import numpy as np
    from IPython.display import Markdown, display

    import autograd_core as ag
    import nn

    np.set_printoptions(precision=4, suppress=True)
    plt.rcParams.update({"figure.dpi": 80})
    """),
    # ------------------------------------------------------------------------------------------
    md(r"""
    ## 1. Three cells, by hand and by `nn`

    **RNN.** $h' = \tanh(W_{ih} x + b_{ih} + W_{hh} h + b_{hh})$ (or ReLU with
    `nonlinearity="relu"`).

    **LSTM** (Hochreiter & Schmidhuber, 1997, with the forget gate of Gers et al., 2000). Besides
    $h$ it carries a *cell state* $c$. Four gates are computed from the input and the previous
    hidden state, in PyTorch's order $i, f, g, o$:

    $$\begin{aligned}
    i &= \sigma(W_{ii} x + b_{ii} + W_{hi} h + b_{hi}) && \text{input gate: how much to write}\\
    f &= \sigma(W_{if} x + b_{if} + W_{hf} h + b_{hf}) && \text{forget gate: how much to keep}\\
    g &= \tanh(W_{ig} x + b_{ig} + W_{hg} h + b_{hg}) && \text{candidate: what to write}\\
    o &= \sigma(W_{io} x + b_{io} + W_{ho} h + b_{ho}) && \text{output gate: how much to show}\\
    c' &= f \odot c + i \odot g, \qquad h' = o \odot \tanh(c').
    \end{aligned}$$

    The cell state is updated by a product with $f$ and a sum, never squashed by a matrix and
    a $\tanh$: with $f \approx 1$ and $i \approx 0$ it passes through unchanged.

    **GRU** (Cho et al., 2014), gates in PyTorch's order $r, z, n$ and no separate cell state:

    $$\begin{aligned}
    r &= \sigma(W_{ir} x + b_{ir} + W_{hr} h + b_{hr}) && \text{reset gate}\\
    z &= \sigma(W_{iz} x + b_{iz} + W_{hz} h + b_{hz}) && \text{update gate}\\
    n &= \tanh(W_{in} x + b_{in} + r \odot (W_{hn} h + b_{hn})) && \text{candidate}\\
    h' &= (1 - z) \odot n + z \odot h.
    \end{aligned}$$

    With $z \approx 1$ the GRU keeps $h$ unchanged, as the LSTM keeps $c$ with $f \approx 1$.

    PyTorch stores the gates' weights stacked: `weight_ih` is
    $[W_{ii}; W_{if}; W_{ig}; W_{io}]$, of shape $(4H, \text{input})$, and `weight_hh`,
    `bias_ih`, `bias_hh` likewise ($3H$ rows for the GRU, $H$ for the RNN). The cells below
    are written in numpy from these formulas, with the weights of `nn.LSTMCell(3, 2)` (and
    of an RNN and a GRU cell of the same size) split into their blocks.
    """),
    code(r"""
    def sigmoid(z):
        return 0.5 * (1.0 + np.tanh(0.5 * z))  # = 1 / (1 + exp(-z)), without overflow


    def rnn_step(x, h, W_ih, W_hh, b_ih, b_hh):
        return np.tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh)


    def lstm_step(x, h, c, W_ih, W_hh, b_ih, b_hh):
        z = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh  # (N, 4H): the four gates' inputs side by side
        z_i, z_f, z_g, z_o = np.split(z, 4, axis=1)  # PyTorch's order: i, f, g, o
        i, f, g, o = sigmoid(z_i), sigmoid(z_f), np.tanh(z_g), sigmoid(z_o)
        c_new = f * c + i * g
        return o * np.tanh(c_new), c_new, (i, f, g, o)


    def gru_step(x, h, W_ih, W_hh, b_ih, b_hh):
        x_r, x_z, x_n = np.split(x @ W_ih.T + b_ih, 3, axis=1)  # PyTorch's order: r, z, n
        h_r, h_z, h_n = np.split(h @ W_hh.T + b_hh, 3, axis=1)
        r, z = sigmoid(x_r + h_r), sigmoid(x_z + h_z)
        n = np.tanh(x_n + r * h_n)  # r scales W_hn h + b_hn, inside the tanh
        return (1 - z) * n + z * h, (r, z, n)


    def weights(cell):  # a cell's or a layer's (W_ih, W_hh, b_ih, b_hh) as numpy arrays
        return [p.numpy() for p in cell.parameters()]


    nn.manual_seed(0)
    rnn_cell, lstm_cell, gru_cell = nn.RNNCell(3, 2), nn.LSTMCell(3, 2), nn.GRUCell(3, 2)
    for name, p in lstm_cell.named_parameters():
        print(f"LSTMCell(3, 2).{name:9s} shape {p.shape}")

    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3))  # a batch of 4 inputs of size 3
    h, c = rng.standard_normal((4, 2)), rng.standard_normal((4, 2))  # the previous state
    h_lstm, c_lstm, (i, f, g, o) = lstm_step(x, h, c, *weights(lstm_cell))
    h_nn, c_nn = lstm_cell(x, (h, c))
    print("\nLSTM, first sample: gates i", i[0], " f", f[0], " g", g[0], " o", o[0])
    print("                    c' = f c + i g =", c_lstm[0], "  h' = o tanh(c') =", h_lstm[0])
    rows = ["| cell | by hand vs `nn` | max abs difference |", "| --- | --- | ---: |"]
    h_rnn, (h_gru, _) = rnn_step(x, h, *weights(rnn_cell)), gru_step(x, h, *weights(gru_cell))
    for cell, what, ours, theirs in [("LSTM", "h'", h_lstm, h_nn), ("LSTM", "c'", c_lstm, c_nn),
                                     ("RNN", "h'", h_rnn, rnn_cell(x, h)),
                                     ("GRU", "h'", h_gru, gru_cell(x, h))]:
        rows.append(f"| {cell} | {what} | {np.abs(theirs.numpy() - ours).max():.1e} |")
    display(Markdown("\n".join(rows)))
    """),
    md(r"""
    **Reading.** The hand-written cells and `nn`'s agree to the last bit or two of float64
    (differences of at most $4.4 \cdot 10^{-16}$): the gate order and the two biases are
    PyTorch's, so PyTorch's state dicts load unchanged. Each LSTM gate is a number in
    $(0, 1)$ per unit (the candidate $g$ is in $(-1, 1)$), and $c'$ is computed from them
    exactly as written. The parameter counts follow from the stacking: for input size $I$
    and hidden size $H$, the RNN has $H(I + H + 2)$ parameters, the GRU three times that,
    the LSTM four times.
    """),
    # ------------------------------------------------------------------------------------------
    md(r"""
    ## 2. Backpropagation through time on the unrolled graph

    Unrolled over $T$ steps, an RNN is a deep feed-forward network whose layers all share the
    same weights. Below, a 3-step RNN with 2 inputs and 3 hidden units, written with engine
    ops so every operation shows, and the loss $L = \lVert h_3 - y \rVert^2$ at the last step.
    The pre-activations $a_t = W_{ih} x_t + W_{hh} h_{t-1} + b$ keep their gradients
    (`retain_grad()`), so the drawing shows $\lVert \partial L / \partial a_t \rVert$ at every
    step as a colour.
    """),
    code(r"""
    rng = np.random.default_rng(0)
    W_ih = ag.Tensor(rng.normal(0, 0.5, (3, 2)), requires_grad=True, name="W_ih")
    W_hh = ag.Tensor(rng.normal(0, 0.5, (3, 3)), requires_grad=True, name="W_hh")
    b = ag.Tensor(np.zeros(3), requires_grad=True, name="b")
    xs = [ag.Tensor(rng.standard_normal(2), name=f"x{t}") for t in (1, 2, 3)]
    y = ag.Tensor([1.0, -1.0, 0.5], name="y")

    h = ag.Tensor(np.zeros(3), name="h0")
    hs, pre = [h], []  # h_0 .. h_3 and a_1 .. a_3
    for t, x_t in enumerate(xs, 1):
        a = W_ih @ x_t + W_hh @ h + b  # the same W_ih, W_hh and b at every step
        a.name = f"a{t}"
        a.retain_grad()
        h = ag.tanh(a)
        h.name = f"h{t}"
        hs.append(h)
        pre.append(a)
    loss = ((h - y) ** 2).sum()
    loss.name = "L"
    loss.backward(retain_graph=True)
    ag.draw_graph(loss, show_grads=True,
                  title="a 3-step RNN unrolled: W_hh, W_ih and b feed every step")
    """),
    md(r"""
    **Reading the drawing.** The graph runs from the inputs at the top to $L$ at the bottom.
    `W_hh`, `W_ih` and `b` each appear **once**, as leaves, with an arrow into every step: one
    set of weights, used three times. Backpropagation runs from $L$ upwards, through $a_3$,
    $h_2$, $a_2$, $h_1$, $a_1$, and every time it meets a shared weight it leaves a
    contribution there; the weight's gradient is the sum of the three. With
    $\delta_t = \partial L / \partial a_t$ (the numbers in the coloured boxes):

    $$\delta_3 = 2 (h_3 - y) \odot (1 - h_3^2), \qquad
    \delta_t = \left(W_{hh}^\top \delta_{t+1}\right) \odot (1 - h_t^2), \qquad
    \frac{\partial L}{\partial W_{hh}} = \sum_{t=1}^{T} \delta_t\, h_{t-1}^\top,
    \quad \frac{\partial L}{\partial W_{ih}} = \sum_{t=1}^{T} \delta_t\, x_t^\top.$$

    Each step back multiplies $\delta$ by $W_{hh}^\top$ and by $\tanh'(a_t) = 1 - h_t^2 \le 1$:
    that product, repeated, is what makes gradients vanish or explode over long sequences.
    The recursion and the sum for $W_{hh}$, checked against what `backward` computed:
    """),
    code(r"""
    H_ = [h_.numpy() for h_ in hs]
    delta = {3: 2 * (H_[3] - y.numpy()) * (1 - H_[3] ** 2)}
    for t in (2, 1):
        delta[t] = (W_hh.numpy().T @ delta[t + 1]) * (1 - H_[t] ** 2)
    for t in (1, 2, 3):
        print(f"delta_{t} by the recursion {delta[t]}   a{t}.grad {pre[t - 1].grad.numpy()}")
    by_sum = sum(np.outer(delta[t], H_[t - 1]) for t in (1, 2, 3))
    print("max |sum_t delta_t h_(t-1)^T - W_hh.grad| =", np.abs(by_sum - W_hh.grad.numpy()).max())
    per_step = [np.linalg.norm(np.outer(delta[t], H_[t - 1])) for t in (1, 2, 3)]
    print("norm of each step's contribution to W_hh.grad (t = 1, 2, 3):", np.round(per_step, 3))
    """),
    md(r"""
    Step 1's contribution is zero: $h_0 = 0$, so $W_{hh}$ did nothing at that step.

    `nn.RNN` does the same computation differently: it computes the input projection
    $W_{ih} x_t + b$ of all steps in one matrix product, then runs the time loop inside one
    op, `recurrence`, whose backward is the recursion above written once for a whole
    sequence. Loaded with the same weights, it gives the same $h_3$ and the same gradients:
    """),
    code(r"""
    rnn = nn.RNN(2, 3)
    rnn.load_state_dict({"weight_ih_l0": W_ih.numpy(), "weight_hh_l0": W_hh.numpy(),
                         "bias_ih_l0": b.numpy(), "bias_hh_l0": np.zeros(3)})
    sequence = np.stack([x_t.numpy() for x_t in xs])  # (L, input) = (3, 2): one unbatched sequence
    out, h_n = rnn(sequence)
    loss_nn = ((out[-1] - y) ** 2).sum()
    loss_nn.backward()
    print("max |h_3 (nn.RNN) - h_3 (unrolled)| =", np.abs(out[-1].numpy() - hs[3].numpy()).max())
    for name, mine in [("weight_hh_l0", W_hh), ("weight_ih_l0", W_ih), ("bias_ih_l0", b)]:
        theirs = getattr(rnn, name).grad.numpy()
        print(f"max |{name}.grad - unrolled| = {np.abs(theirs - mine.grad.numpy()).max():.1e}")
    """),
    # ------------------------------------------------------------------------------------------
    md(r"""
    ## 3. The gradient through time: vanishing

    How much does the loss at the last step depend on the input at step $t$? Below,
    $L = \sum_j h_{T,j}$ (the sum of the last hidden state) for a batch of 32 random sequences
    of $T = 60$ one-hot tokens (8 symbols), and the norm of $\partial L / \partial x_t$ over
    the batch, for every step $t$. The inputs are a leaf tensor with `requires_grad=True`,
    so one backward pass gives all 60 gradients. Each network has 32 hidden units and
    PyTorch's default initialization, every weight and bias from
    $U(-1/\sqrt{H}, 1/\sqrt{H})$.

    Two more LSTMs start with a positive forget-gate bias: `bias_ih_l0[H:2H]`, the second of
    the four blocks in the order $i, f, g, o$, is raised by 1 (as Jozefowicz et al., 2015,
    recommend) or by 3.
    """),
    code(r"""
    T_long, H, V = 60, 32, 8
    rng = np.random.default_rng(1)
    X_random = np.eye(V)[rng.integers(0, V, (32, T_long))]  # (N, L, V): random one-hot tokens


    def gradient_through_time(layer, X, loss_of_last=lambda h_last: h_last.sum()):
        # ||dL/dx_t|| over the batch for every step t, L a function of the last step's output
        x = ag.Tensor(X, requires_grad=True)
        out, _ = layer(x)
        loss_of_last(out[:, -1]).backward()
        return np.linalg.norm(x.grad.numpy(), axis=(0, 2))


    def per_step_factor(norms, start=10, stop=50):  # geometric mean of norm[t] / norm[t + 1]
        return float(np.exp(np.mean(np.diff(np.log(norms[start:stop]))) * -1))


    def with_forget_bias(layer, shift):
        with ag.no_grad():
            layer.bias_ih_l0[H : 2 * H] += shift  # rows H..2H: the forget gate
        return layer


    def forget_gate_mean(lstm, X, skip_first=True):
        # run the hand-written cell of section 1 over X with lstm's weights; mean of f
        W = weights(lstm)
        h, c, fs = np.zeros((len(X), H)), np.zeros((len(X), H)), []
        for t in range(X.shape[1]):
            h, c, (_, f, _, _) = lstm_step(X[:, t], h, c, *W)
            fs.append(f)
        return float(np.mean(fs[1:] if skip_first else fs))


    layers = {}
    for name, make in [("RNN", nn.RNN), ("LSTM", nn.LSTM), ("GRU", nn.GRU)]:
        nn.manual_seed(0)
        layers[name] = make(V, H, batch_first=True)
    nn.manual_seed(0)
    layers["LSTM, forget bias +1"] = with_forget_bias(nn.LSTM(V, H, batch_first=True), 1.0)
    nn.manual_seed(0)
    layers["LSTM, forget bias +3"] = with_forget_bias(nn.LSTM(V, H, batch_first=True), 3.0)
    at_init = {name: gradient_through_time(layer, X_random) for name, layer in layers.items()}

    rows = ["| network | ‖∂L/∂x_T‖ | ‖∂L/∂x_1‖ | ‖∂L/∂x_1‖ / ‖∂L/∂x_T‖ | factor per step back "
            "| mean f |",
            "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for name, norms in at_init.items():
        f_mean = f"{forget_gate_mean(layers[name], X_random):.2f}" if "LSTM" in name else ""
        rows.append(f"| {name} | {norms[-1]:.2g} | {norms[0]:.2g} | {norms[0] / norms[-1]:.1e} "
                    f"| {per_step_factor(norms):.2f} | {f_mean} |")
    display(Markdown("\n".join(rows)))

    fig, ax = plt.subplots(figsize=(9, 4), layout="constrained")
    steps = np.arange(1, T_long + 1)
    styles = {"RNN": ("C0", "-"), "LSTM": ("C1", "-"), "GRU": ("C2", "-"),
              "LSTM, forget bias +1": ("C1", "--"), "LSTM, forget bias +3": ("C1", ":")}
    for name, norms in at_init.items():
        colour, ls = styles[name]
        ax.semilogy(steps, norms, color=colour, ls=ls, label=name)
    ax.set(title="‖∂L/∂x_t‖ for a loss at the last step (t = 60), at initialization: "
                 "read each curve from right to left",
           xlabel="step t", ylabel="gradient norm (log scale)")
    ax.legend(fontsize=9)
    ax.grid(alpha=0.3)
    plt.show()
    """),
    md(r"""
    **Reading.** At initialization the three networks lose the gradient at the same rate:
    each step back multiplies it by about 0.6 (0.61 for the RNN, 0.63 for the LSTM, 0.64 for
    the GRU), so over the 59 steps from $t = 60$ to $t = 1$ it falls by twelve to thirteen
    orders of magnitude. The loss at the last step hardly depends on the first inputs, and
    gradient descent gets no signal to learn to use them. For the RNN the factor is close to
    the spectral radius of $W_{hh}$, 0.63 (section 5): near $h = 0$, $\tanh' \approx 1$ and
    a step back multiplies by about $W_{hh}^\top$.

    The LSTM is no exception at PyTorch's initialization. Along the cell path,
    $c_t = f_t \odot c_{t-1} + i_t \odot g_t$, a step back multiplies the gradient by $f_t$,
    and the forget gate starts at $\sigma(\text{small}) \approx 0.5$ (measured mean 0.51).
    What the gate changes is that this factor is a number the network computes, and it can
    be moved towards 1: with the forget-gate bias raised by 1, $f \approx 0.74$, the factor is
    0.86 and the gradient at step 1 is $4 \cdot 10^{-5}$ of the last step's instead of
    $10^{-12}$; raised by 3, $f \approx 0.96$ and it does not vanish at all (factor 1.03). An
    RNN has no such number: its factor is $W_{hh}^\top \operatorname{diag}(1 - h_t^2)$, and
    scaling $W_{hh}$ up to bring it near 1 makes it explode instead (section 5).
    """),
    # ------------------------------------------------------------------------------------------
    md(r"""
    ## 4. A long-range dependency: RNN vs LSTM vs GRU

    **The task: recall the first token.** Each sequence has $T = 50$ tokens. The first is a
    message, one of four symbols `A B C D`; the other 49 are distractors, drawn at random
    from four other symbols `w x y z`. At every step the network must say which message the
    sequence started with (one output per step, a loss at every step). Its accuracy at step
    $t$ therefore measures a memory of $t - 1$ steps; chance is 25%. The tokens enter as
    one-hot vectors of size 8.

    Each network is a recurrent layer with 32 hidden units and a linear layer from the hidden
    state to the 4 messages, at every step; Adam with learning rate 0.02, 150 steps on
    batches of 16 fresh sequences (new data every step, so there is nothing to overfit), and
    256 held-out sequences to measure the accuracy. The three networks are trained from three
    seeds each; the curves show seed 0.
    """),
    code(r"""
    T_task, MESSAGES, SYMBOLS = 50, 4, 8
    LETTERS = "ABCDwxyz"


    def recall_batch(n, rng, length=T_task):
        # one-hot sequences (n, length, 8) and their messages (n,): token 0 is the message
        tokens = rng.integers(MESSAGES, SYMBOLS, (n, length))
        tokens[:, 0] = rng.integers(0, MESSAGES, n)
        return np.eye(SYMBOLS)[tokens], tokens[:, 0]


    class Recall(nn.Module):
        # a recurrent layer and a linear read-out at every step: (N, L, 8) -> (N, L, 4)

        def __init__(self, kind, hidden=32):
            super().__init__()
            self.rnn = getattr(nn, kind)(SYMBOLS, hidden, batch_first=True)
            self.head = nn.Linear(hidden, MESSAGES)

        def forward(self, x):
            out, _ = self.rnn(x)
            return self.head(out)


    X_test, y_test = recall_batch(256, np.random.default_rng(1000))
    example = (X_test[:3].argmax(axis=2))
    for row, message in zip(example, y_test[:3]):
        print("".join(LETTERS[k] for k in row), "  message:", LETTERS[message])


    def accuracy_per_step(net, X=X_test, y=y_test):
        with ag.no_grad():
            guesses = net(X).numpy().argmax(axis=2)  # (N, L)
        return (guesses == y[:, None]).mean(axis=0)


    def train_recall(kind, seed, steps=150, lr=0.02, track=False):
        # track: measure the held-out accuracy at step 50 every 10 training steps
        nn.manual_seed(seed)
        rng = np.random.default_rng(seed)
        net = Recall(kind)
        optimizer = nn.optim.Adam(net.parameters(), lr=lr)
        loss_fn = nn.CrossEntropyLoss()
        history = {"loss": [], "step": [], "last-step accuracy": []}
        start = time.process_time()
        for step in range(1, steps + 1):
            X, y = recall_batch(16, rng)
            logits = net(X)  # (16, 50, 4): a guess at every step
            loss = loss_fn(logits.reshape(-1, MESSAGES), np.repeat(y, T_task))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            history["loss"].append(loss.item())
            if track and step % 10 == 0:
                history["step"].append(step)
                history["last-step accuracy"].append(accuracy_per_step(net)[-1])
        return net, history, time.process_time() - start


    runs = {(kind, seed): train_recall(kind, seed, track=seed == 0)
            for kind in ("RNN", "LSTM", "GRU") for seed in (0, 1, 2)}
    rows = ["| network | parameters | CPU time, 150 steps | accuracy at step 50, seeds 0, 1, 2 |",
            "| --- | ---: | ---: | --- |"]
    for kind in ("RNN", "LSTM", "GRU"):
        net, _, seconds = runs[kind, 0]
        accs = ", ".join(f"{accuracy_per_step(runs[kind, s][0])[-1]:.1%}" for s in (0, 1, 2))
        rows.append(f"| {kind} | {sum(p.numel() for p in net.parameters()):,} "
                    f"| {seconds:.1f} s | {accs} |")
    display(Markdown("\n".join(rows)))
    """),
    code(r"""
    fig, axes = plt.subplots(1, 3, figsize=(15, 4), layout="constrained")
    colours = {"RNN": "C0", "LSTM": "C1", "GRU": "C2"}
    for kind, colour in colours.items():
        net, history, _ = runs[kind, 0]
        loss = np.array(history["loss"])
        smooth = np.convolve(loss, np.ones(10) / 10, mode="valid")
        axes[0].plot(np.arange(10, len(loss) + 1), smooth, color=colour, label=kind)
        axes[1].plot(history["step"], history["last-step accuracy"], marker=".", color=colour,
                     label=kind)
        for seed in (0, 1, 2):
            axes[2].plot(np.arange(1, T_task + 1), accuracy_per_step(runs[kind, seed][0]),
                         color=colour, alpha=1.0 if seed == 0 else 0.35,
                         label=kind if seed == 0 else None)
    for seed in (0, 1, 2):
        print(f"RNN, seed {seed}: accuracy at steps 1-6",
              np.round(accuracy_per_step(runs["RNN", seed][0])[:6], 3))
    axes[0].axhline(np.log(4), color="grey", ls=":", lw=1)
    axes[0].set(title="training loss (mean of 10 steps); dotted: log 4, chance",
                xlabel="training step", ylabel="cross-entropy")
    axes[1].set(title="held-out accuracy at step 50 (a memory of 49 steps)",
                xlabel="training step", ylabel="accuracy", ylim=(0, 1.05))
    axes[2].set(title="after training: accuracy at each step t (faint: seeds 1, 2)",
                xlabel="step t (the message was token 1)", ylabel="accuracy", ylim=(0, 1.05))
    for ax in axes[1:]:
        ax.axhline(0.25, color="grey", ls=":", lw=1)
    for ax in axes:
        ax.legend()
        ax.grid(alpha=0.3)
    plt.show()
    """),
    md(r"""
    **Reading.** All three start at chance (loss $\log 4 = 1.39$, accuracy 25%): at first no
    network connects its output to the first token. The GRU gets there first (100% at step 50
    from training step 60 on), the LSTM by training step 110, and after training both are
    right at every step $t$, for all three seeds. The RNN stalls: its accuracy at step 50 stops
    at 77% (seed 0) and 53% (seeds 1 and 2), and the right-hand panel shows where it loses the
    message: it is 100% right at step 1, where the message is the current input, loses part
    of it by step 4 at the latest (the accuracies printed above the plot drop from 100% to
    77% to 53%, one piece of the message at a time), and then stays flat to step 50. (Seeds
    0 to 7, checked outside this notebook with the same settings: the RNN reached 100% once,
    with seed 5; the LSTM seven times, the eighth stopped at 73%; the GRU all eight times.)

    What did the RNN keep? Its guesses at step 50, as confusion matrices:
    """),
    code(r"""
    print("the RNN's guesses at step 50: rows = message A, B, C, D; columns = guess A, B, C, D")
    matrices = []
    for seed in (0, 1, 2):
        with ag.no_grad():
            guesses = runs["RNN", seed][0](X_test).numpy()[:, -1].argmax(axis=1)
        confusion = np.zeros((4, 4), dtype=int)
        np.add.at(confusion, (y_test, guesses), 1)
        matrices.append(confusion)
    print("     ".join(f"seed {seed}{'':13s}" for seed in (0, 1, 2)))
    for row in range(4):
        print("     ".join(" ".join(f"{n:4d}" for n in m[row]) for m in matrices))
    """),
    md(r"""
    **Reading.** Seed 0 keeps A and C apart from everything, but B and D have merged (every B
    is guessed as D): three of the four messages, 77%. Seeds 1 and 2 keep a single
    distinction: seed 1 tells C from the other three, seed 2 tells {A, B} from {C, D}, and
    each answers one message per group, 53%. What the RNN keeps, it keeps steadily (the
    accuracy is flat from step 4 to step 50); what it lost in the first steps it never gets
    back.

    **The gradient after training.** Section 3 measured $\partial L / \partial x_t$ at
    initialization, where it vanished for all three networks alike. The same measurement
    ($L = \sum_j h_{T,j}$, now with $T = 50$, on the held-out sequences) for the trained
    networks of seed 0, next to the same networks before training:
    """),
    code(r"""
    fig, ax = plt.subplots(figsize=(9, 4), layout="constrained")
    for kind, colour in colours.items():
        nn.manual_seed(0)  # Recall(kind) below is the trained network's starting point
        for net, ls, when in [(runs[kind, 0][0], "-", "trained"), (Recall(kind), ":", "init")]:
            norms = gradient_through_time(net.rnn, X_test)
            ax.semilogy(np.arange(1, T_task + 1), norms, color=colour, ls=ls,
                        label=f"{kind}, {when}")
            print(f"{kind:4s} {when:7s}: ‖∂L/∂x_1‖ / ‖∂L/∂x_50‖ = {norms[0] / norms[-1]:.1e}, "
                  f"factor per step back between steps 40 and 5: "
                  f"{per_step_factor(norms, 5, 40):.2f}")
    nn.manual_seed(0)
    untrained_rnn = Recall("RNN")
    for net, when in [(runs["RNN", 0][0], "trained"), (untrained_rnn, "at init")]:
        with ag.no_grad():
            states = net.rnn(X_test)[0].numpy()[:, 9:]  # h_t for steps 10..50
        print(f"RNN {when}: {np.mean(np.abs(states) > 0.99):.0%} of the hidden values over "
              f"steps 10-50 have |h| > 0.99 (saturated: tanh' < 0.02)")
    ax.set(title="‖∂L/∂x_t‖, L at step 50: trained (solid), at initialization (dotted); "
                 "read from right to left", xlabel="step t", ylabel="gradient norm (log scale)")
    ax.legend(fontsize=8, ncols=3)
    ax.grid(alpha=0.3)
    plt.show()
    """),
    md(r"""
    **Reading.** Before training the three curves fall alike (dotted: a factor of 0.60 to
    0.64 per step, as in section 3). After training, the LSTM's and the GRU's curves are
    nearly flat from step 40 back to step 3 (a step back costs a factor of 0.94 for the LSTM,
    0.97 for the GRU) and rise again over the first two steps, next to the message: the
    gradient at step 1 is 0.15 (LSTM) and 0.64 (GRU) times the one at step 50. The state at
    step 50 still responds to the first input through the 49 steps in between; the gates
    decide, input by input, how much of the state passes on to the next step. The trained
    RNN's curve is steeper than at initialization (0.29 per step, $3 \cdot 10^{-26}$ at
    step 1): what it holds, it holds in saturated units (85% of its hidden values have
    $|h| > 0.99$ after step 10, none at initialization), which a small change of an early
    input does not move, and a gradient that small cannot teach it the rest of the message.
    An RNN can only pass its state on through $W_{hh}$ and $\tanh$, which mix every
    distractor into it.
    """),
    # ------------------------------------------------------------------------------------------
    md(r"""
    ## 5. Exploding gradients and gradient clipping

    The same product of Jacobians can also grow. Going back one step multiplies
    $\partial L / \partial h_t$ by $W_{hh}^\top \operatorname{diag}(1 - h_t^2)$; PyTorch's
    initialization gives $W_{hh}$ a spectral radius (largest $|\text{eigenvalue}|$) well below
    1, and the gradient shrinks. Multiply $W_{hh}$ by 5 and the radius is above 1: where the
    units are not saturated, the gradient grows at every step back. The same RNN as in
    section 3 (seed 0), before and after `weight_hh_l0 *= 5`, on the same random sequences:
    """),
    code(r"""
    nn.manual_seed(0)
    rnn = nn.RNN(V, H, batch_first=True)
    radius = np.abs(np.linalg.eigvals(rnn.weight_hh_l0.numpy())).max()
    normal = gradient_through_time(rnn, X_random)
    with ag.no_grad():
        rnn.weight_hh_l0 *= 5.0
    rnn.zero_grad()
    exploding = gradient_through_time(rnn, X_random)
    print(f"spectral radius of W_hh: {radius:.2f} (PyTorch's init), {5 * radius:.2f} (x 5)")
    print(f"‖∂L/∂x_1‖ / ‖∂L/∂x_60‖: {normal[0] / normal[-1]:.1e} (init), "
          f"{exploding[0] / exploding[-1]:.1e} (x 5); factor per step back: "
          f"{per_step_factor(normal):.2f} (init), {per_step_factor(exploding):.2f} (x 5)")

    grads_before = [p.grad.numpy().copy() for p in rnn.parameters()]
    total = nn.utils.clip_grad_norm_(rnn.parameters(), max_norm=1.0)
    grads_after = [p.grad.numpy() for p in rnn.parameters()]
    after = np.sqrt(sum(np.sum(g**2) for g in grads_after))
    flat_before = np.concatenate([g.ravel() for g in grads_before])
    flat_after = np.concatenate([g.ravel() for g in grads_after])
    cosine = flat_before @ flat_after / np.linalg.norm(flat_before) / np.linalg.norm(flat_after)
    print(f"clip_grad_norm_(max_norm=1.0): total norm of all parameter gradients "
          f"{float(total):.3g} before (returned), {after:.6f} after; "
          f"cosine(before, after) = {cosine:.12f}")

    fig, ax = plt.subplots(figsize=(9, 4), layout="constrained")
    ax.semilogy(steps, normal, color="C0", label="RNN, PyTorch's init: vanishing")
    ax.semilogy(steps, exploding, color="C3", label="RNN, W_hh x 5: exploding")
    ax.set(title="‖∂L/∂x_t‖ for a loss at step 60: from right to left it falls (blue) "
                 "or grows (red)", xlabel="step t", ylabel="gradient norm (log scale)")
    ax.legend()
    ax.grid(alpha=0.3)
    plt.show()
    """),
    md(r"""
    **Reading.** PyTorch's initialization gives $W_{hh}$ a spectral radius of 0.63, and the
    gradient shrinks by a factor of 0.61 per step back. Times 5, the radius is 3.17: the
    gradient at step 1 is $9 \cdot 10^{6}$ times the one at step 60, and the total norm of the
    layer's parameter gradients is $2.6 \cdot 10^{8}$; an SGD step with any usual learning
    rate would throw the weights far away. The growth per step, 1.28, is much less than
    3.17: the large weights saturate many units, and a saturated unit ($\tanh' \approx 0$)
    passes no gradient. So a tanh RNN's gradients explode in bursts, where its units are not
    saturated, rather than everywhere. `clip_grad_norm_` scaled the gradients down to a total
    norm of exactly 1 and kept their direction (cosine 1).

    **Clipping in training.** `clip_grad_norm_` rescales all gradients together, so their
    joint norm is at most `max_norm`, and leaves smaller gradients alone:

    $$g \leftarrow g \cdot \min\left(1, \frac{\text{max\_norm}}{\lVert g \rVert}\right).$$

    The direction is kept, only the step is shortened (the cosine above is 1). It goes between
    `backward()` and `step()`. Below, an RNN with $W_{hh} \times 3$ learns the recall task of
    section 4 on sequences of 20 tokens, with plain SGD and a large learning rate, 1.0: the
    same initialization and the same batches, once without clipping and once with
    `max_norm=1.0`.
    """),
    code(r"""
    def train_scaled_rnn(max_norm, seed=0, steps=100, length=20, scale=3.0, lr=1.0):
        nn.manual_seed(seed)
        rng = np.random.default_rng(seed)
        net = Recall("RNN")
        with ag.no_grad():
            net.rnn.weight_hh_l0 *= scale
        optimizer = nn.optim.SGD(net.parameters(), lr=lr)
        loss_fn = nn.CrossEntropyLoss()
        losses, norms = [], []
        for _ in range(steps):
            X, y = recall_batch(32, rng, length)
            loss = loss_fn(net(X).reshape(-1, MESSAGES), np.repeat(y, length))
            optimizer.zero_grad()
            loss.backward()
            norms.append(float(nn.utils.clip_grad_norm_(net.parameters(), max_norm)))
            optimizer.step()
            losses.append(loss.item())
        X20, y20 = recall_batch(256, np.random.default_rng(1000), length)
        return np.array(losses), np.array(norms), accuracy_per_step(net, X20, y20)[-1]


    clipping = {"no clipping": train_scaled_rnn(np.inf),
                "clip_grad_norm_(max_norm=1.0)": train_scaled_rnn(1.0)}
    fig, axes = plt.subplots(1, 2, figsize=(13, 4), layout="constrained")
    for (name, (losses, norms, acc)), colour in zip(clipping.items(), ["C3", "C0"]):
        axes[0].plot(np.arange(1, len(losses) + 1), losses, color=colour, label=name)
        axes[1].semilogy(np.arange(1, len(norms) + 1), norms, color=colour, label=name)
        print(f"{name:30s} highest loss {losses.max():.2f} (step {losses.argmax() + 1}), "
              f"loss over the last 10 steps {losses[-10:].mean():.3f}, "
              f"largest gradient norm {norms.max():.1f}, held-out accuracy at step 20: {acc:.1%}")
    axes[0].axhline(np.log(4), color="grey", ls=":", lw=1)
    axes[0].set(title="training loss per step (dotted: log 4, chance)", xlabel="training step",
                ylabel="cross-entropy")
    axes[1].axhline(1.0, color="k", ls="--", lw=1, label="max_norm")
    axes[1].set(title="gradient norm before clipping (what clip_grad_norm_ returns)",
                xlabel="training step", ylabel="‖g‖ (log scale)")
    for ax in axes:
        ax.legend()
        ax.grid(alpha=0.3)
    plt.show()
    """),
    md(r"""
    **Reading.** Without clipping, the loss jumps in the first ten steps (to 10 at step 9,
    far above chance, 1.39): a few large gradients (norms up to 13) times the learning rate
    1.0 move the weights so far that the network lands in a bad region and stays there, at a
    loss near 2 and chance accuracy (26.6% at step 20). With clipping, a step moves the
    weights by at most $\text{lr} \cdot \text{max\_norm} = 1$. The gradients it meets are as
    large (up to 11.6 before clipping), but the run keeps learning: loss 0.28 over the last
    10 steps, 73.4% at step 20. Clipping does not remove the large gradients, it bounds the
    step they cause. (Adam divides each gradient by a running estimate of its size, so a
    single huge gradient moves a weight by a few learning rates at most; clipping is still
    common with Adam, and costs one line.)
    """),
    # ------------------------------------------------------------------------------------------
    md(r"""
    ## 6. A note on the GRU

    The GRU (Cho et al., 2014) is a simpler gated cell: no separate cell state, two gates
    and a candidate instead of three gates and a candidate, so three blocks of weights
    instead of four (4,164 parameters against the LSTM's 5,508 in section 4, 25% fewer, and
    less work per step). The update gate does the work of the LSTM's forget and input gates
    at once: $h' = (1 - z) \odot n + z \odot h$ keeps a unit's old value where $z \approx 1$
    and writes the candidate where $z \approx 0$, so keeping and writing are tied (in LSTM
    terms $f = z$ and $i = 1 - z$). The reset gate $r$ sets how much of the old state the
    candidate sees. On the recall task it learned fastest of the three and kept the gradient
    best (0.97 per step). Neither cell wins everywhere: in the large comparison of Jozefowicz
    et al. (2015) the GRU beat the LSTM on most tasks, and adding 1 to the LSTM's forget-gate
    bias (as in section 3) closed the gap.
    """),
    # ------------------------------------------------------------------------------------------
    md(r"""
    ## Summary

    | topic | what we saw |
    | --- | --- |
    | the cells | RNN, LSTM ($i, f, g, o$), GRU ($r, z, n$) by hand = `nn`'s cells to $10^{-16}$ |
    | BPTT | a shared weight's gradient: the sum over steps, $\sum_t \delta_t h_{t-1}^\top$ |
    | `nn.RNN` | one op for the whole loop; the same output and gradients as the unrolled graph |
    | vanishing | at initialization, $\times 0.6$ per step back, all three: $10^{-12}$ at step 1 |
    | forget-gate bias | $+1$: factor 0.86; $+3$: 1.03, no vanishing |
    | recall over 49 steps | LSTM and GRU 100% (3 seeds); RNN 77%, 53%, 53% |
    | after training | gated networks' gradient flat (0.94, 0.97 per step); the RNN's 0.29 |
    | exploding | $W_{hh} \times 5$: radius 3.17, gradient $\times 9 \cdot 10^{6}$ back to step 1 |
    | clipping | norm to 1, direction kept; SGD, lr 1: 73% with clipping, 27% (chance) without |
    """),
]


if __name__ == "__main__":
    build("05_recurrent_networks.ipynb", CELLS)
