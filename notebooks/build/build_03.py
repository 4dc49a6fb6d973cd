"""Generate notebooks/03_training_feedforward_networks.ipynb (executed, outputs stored).

Run from the repository root with the project importable (`pip install -e .`, or
PYTHONPATH pointing at the repository):

    python notebooks/build/build_03.py

The cells are assembled with nbformat, executed in a fresh kernel with cwd = notebooks/
(as the test suite does), and saved with their outputs.
"""

from __future__ import annotations

from _common import build, code, md

CELLS = [
    # ------------------------------------------------------------------------------------------
    md(r"""
    # Training feed-forward networks

    A feed-forward network applies, layer after layer,

    $$z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)}, \qquad a^{(l)} = f\big(z^{(l)}\big),
    \qquad a^{(0)} = x,$$

    and is trained by backpropagation: with $\delta^{(l)} = \partial L / \partial z^{(l)}$,

    $$\delta^{(l)} = f'\big(z^{(l)}\big) \odot \big(W^{(l+1)}\big)^{\top} \delta^{(l+1)},
    \qquad \frac{\partial L}{\partial W^{(l)}} = \delta^{(l)} \big(a^{(l-1)}\big)^{\top},
    \qquad \frac{\partial L}{\partial b^{(l)}} = \delta^{(l)}.$$

    This notebook trains such networks with `nn` (a PyTorch-like library on top of
    `autograd_core`) and shows the phenomena of the course with experiments you can rerun:
    why XOR needs a hidden layer, a digit classifier end to end, the symmetry problem of zero
    initialization, vanishing gradients, Xavier vs He initialization, dead ReLUs, overfitting
    and regularization, optimizers, a gallery of activations with derivatives computed by the
    library's own autodiff, and universal approximation. Every number quoted is computed
    here; seeds are fixed, so a rerun gives the same numbers.

    `nn.Linear` stores $W^{(l)}$ as (out, in) and works on row batches, $Z = X W^{\top} + b$,
    as PyTorch does.
    """),
    code("""
    %matplotlib inline
    import math

    import matplotlib.pyplot as plt
    import numpy as np

    import autograd_core as ag
    import nn

    np.set_printoptions(precision=4, suppress=True)
    plt.rcParams.update({"figure.dpi": 80, "axes.grid": True, "grid.alpha": 0.3})


    def loader(X, y, batch_size=32, shuffle=True, seed=0):
        \"\"\"Mini-batches of (X, y) with seeded shuffling.\"\"\"
        return nn.data.DataLoader(
            nn.data.TensorDataset(X, y), batch_size=batch_size, shuffle=shuffle, seed=seed
        )


    def linears(model):
        \"\"\"The Linear layers of a model, input to output.\"\"\"
        return [m for m in model.modules() if isinstance(m, nn.Linear)]


    def softmax_np(logits):
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    """),
    # ------------------------------------------------------------------------------------------
    md(r"""
    ## 1. XOR: why a hidden layer is needed

    **Claim.** XOR is not linearly separable. A linear classifier predicts class 1 on one side
    of a line $w^\top x + b = 0$. If $(0,1)$ and $(1,0)$ are both on the class-1 side, so is
    their midpoint $(\tfrac12, \tfrac12)$ (a half-plane is convex). But that point is also
    the midpoint of $(0,0)$ and $(1,1)$, so one of those two class-0 corners is on the class-1
    side too: no line gets all four corners right. One hidden layer fixes this.

    **Experiment.** 200 noisy copies of the four corners; a linear softmax classifier
    (`nn.Linear(2, 2)`) against an MLP 2-8-2 with tanh, both trained full-batch with Adam by
    the plain loop: forward, loss, zero the gradients, backward, step.
    """),
    code("""
    X_xor, y_xor = nn.datasets.make_xor(200, noise=0.15, seed=0)
    corners, corner_labels = nn.datasets.make_xor()  # the truth table


    def train_full_batch(model, X, y, steps=300, lr=0.05):
        loss_fn = nn.CrossEntropyLoss()
        optimizer = nn.optim.Adam(model.parameters(), lr=lr)
        for _ in range(steps):
            loss = loss_fn(model(X), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return loss.item()


    nn.manual_seed(0)
    linear = nn.Linear(2, 2)
    mlp_xor = nn.MLP([2, 8, 2], activation="tanh")
    for name, model in [("linear", linear), ("MLP 2-8-2", mlp_xor)]:
        final_loss = train_full_batch(model, X_xor, y_xor)
        errors = int((nn.predict(model, X_xor).argmax(1) != y_xor).sum())
        table = nn.predict(model, corners).argmax(1)
        print(
            f"{name:10s} loss {final_loss:.4f}   errors {errors:3d}/{len(y_xor)}   "
            f"truth table {corners.astype(int).tolist()} -> {table.tolist()} "
            f"(want {corner_labels.tolist()})"
        )
    """),
    code("""
    def plot_boundary(ax, model, X, y, title, lim=(-0.6, 1.6)):
        \"\"\"P(class 1) over a grid, the 0.5 contour, and the data.\"\"\"
        g = np.linspace(*lim, 150)
        xx, yy = np.meshgrid(g, g)
        points = np.c_[xx.ravel(), yy.ravel()]
        p1 = softmax_np(nn.predict(model, points, batch_size=len(points)))[:, 1]
        cs = ax.contourf(xx, yy, p1.reshape(xx.shape), levels=np.linspace(0, 1, 11),
                         cmap="RdBu_r", alpha=0.6)
        ax.contour(xx, yy, p1.reshape(xx.shape), levels=[0.5], colors="k", linewidths=1.5)
        for c, marker in [(0, "o"), (1, "s")]:
            ax.scatter(*X[y == c].T, s=14, marker=marker, edgecolors="k", linewidths=0.4,
                       color="tab:blue" if c == 0 else "tab:red", label=f"class {c}")
        ax.set(title=title, xlabel="$x_1$", ylabel="$x_2$", xlim=lim, ylim=lim)
        ax.legend(loc="upper right", fontsize=8)
        return cs


    fig, axes = plt.subplots(1, 2, figsize=(10, 4.3), layout="constrained")
    for ax, (name, model) in zip(axes, [("linear model", linear), ("MLP 2-8-2 (tanh)", mlp_xor)]):
        errors = int((nn.predict(model, X_xor).argmax(1) != y_xor).sum())
        cs = plot_boundary(ax, model, X_xor, y_xor, f"XOR, {name}: {errors} errors")
    fig.colorbar(cs, ax=axes, label="P(class 1)")
    plt.show()
    """),
    md(r"""
    **Reading.** The linear model's boundary is a straight line and it misclassifies about half
    of the points (it cannot do better than 3 corners out of 4); its loss stays near
    $\ln 2 \approx 0.693$, the loss of guessing. The hidden layer bends the boundary into a
    band that separates the two diagonals with zero errors.
    """),
    # ------------------------------------------------------------------------------------------
    md(r"""
    ## 2. Digits: a classifier end to end

    The bundled 8x8 handwritten digits (1797 images, pixel values 0..16, divided by 16) are
    split at random into training, validation and test sets. The validation set steers choices
    (epochs, architecture); the test set is looked at once, at the end. The model is an MLP
    64-64-10 with ReLU; the softmax is inside `CrossEntropyLoss`, which takes the logits
    $z^{(2)}$ and the integer labels. `nn.fit` runs the training loop and records per-epoch
    loss and accuracy on both sets.
    """),
    code("""
    X_digits, y_digits = nn.datasets.load_digits()
    X_digits = X_digits / 16.0
    order = np.random.default_rng(0).permutation(len(X_digits))
    i_train, i_val, i_test = order[:1100], order[1100:1400], order[1400:]
    X_train, y_train = X_digits[i_train], y_digits[i_train]
    X_val, y_val = X_digits[i_val], y_digits[i_val]
    X_test, y_test = X_digits[i_test], y_digits[i_test]
    print(f"train {len(y_train)}, validation {len(y_val)}, test {len(y_test)} images")

    train_loader = loader(X_train, y_train, batch_size=32, seed=0)
    val_loader = loader(X_val, y_val, batch_size=len(y_val), shuffle=False)

    nn.manual_seed(0)
    digits_model = nn.MLP([64, 64, 10], activation="relu")
    history = nn.fit(
        digits_model,
        nn.CrossEntropyLoss(),
        nn.optim.Adam(digits_model.parameters(), lr=1e-3),
        train_loader,
        epochs=30,
        val_loader=val_loader,
        progress=False,
    )
    print(history)
    """),
    code("""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
    for ax, metric in zip(axes, ["loss", "accuracy"]):
        ax.plot(history.epochs, history[metric], marker=".", label="training")
        ax.plot(history.epochs, history["val_" + metric], marker=".", label="validation")
        ax.set(title=f"digits MLP 64-64-10: {metric}", xlabel="epoch", ylabel=metric)
        ax.legend()
    axes[0].set_yscale("log")
    plt.show()

    test_pred = nn.predict(digits_model, X_test).argmax(axis=1)
    test_accuracy = np.mean(test_pred == y_test)
    print(f"test accuracy: {test_accuracy:.4f} ({int(np.sum(test_pred != y_test))} errors "
          f"in {len(y_test)})")
    """),
    md(r"""
    The confusion matrix counts, for every true class (row), the predicted classes (columns);
    the diagonal holds the correct predictions. It is one `np.add.at`.
    """),
    code("""
    confusion = np.zeros((10, 10), dtype=int)
    np.add.at(confusion, (y_test, test_pred), 1)

    fig, ax = plt.subplots(figsize=(5.6, 4.8), layout="constrained")
    im = ax.imshow(confusion, cmap="Blues")
    for i in range(10):
        for j in range(10):
            if confusion[i, j]:
                ax.text(j, i, confusion[i, j], ha="center", va="center", fontsize=8,
                        color="white" if confusion[i, j] > confusion.max() / 2 else "black")
    ax.set(title=f"test confusion matrix (accuracy {test_accuracy:.3f})",
           xlabel="predicted class", ylabel="true class", xticks=range(10), yticks=range(10))
    ax.grid(False)
    fig.colorbar(im, ax=ax, label="count")
    plt.show()

    off_diagonal = confusion - np.diag(np.diag(confusion))
    i, j = np.unravel_index(off_diagonal.argmax(), off_diagonal.shape)
    print(f"most frequent confusion: true {i} predicted as {j} ({off_diagonal[i, j]} times)")
    print("per-class recall:", np.round(np.diag(confusion) / confusion.sum(axis=1), 3))
    print("errors by predicted class:", off_diagonal.sum(axis=0))
    """),
    code("""
    wrong = np.flatnonzero(test_pred != y_test)[:10]
    probs = softmax_np(nn.predict(digits_model, X_test[wrong]))
    fig, axes = plt.subplots(1, len(wrong), figsize=(1.3 * len(wrong), 1.9), layout="constrained")
    for ax, k, p in zip(np.atleast_1d(axes), wrong, probs):
        ax.imshow(X_test[k].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(f"true {y_test[k]}\\npred {test_pred[k]} ({p.max():.0%})", fontsize=9)
        ax.axis("off")
    fig.suptitle("misclassified test digits (prediction with its softmax probability)")
    plt.show()
    """),
    md(r"""
    **Reading.** Training and validation curves stay close (no sign of overfitting at this
    size), and the test accuracy is printed above. The few errors are spread thinly over the
    confusion matrix, at most 2 in a cell; the most common wrong answer is 8 (errors by
    predicted class, printed above). Several misclassified digits are ambiguous even to a
    human at 8x8 resolution.
    """),
    # ------------------------------------------------------------------------------------------
    md(r"""
    ## 3. Zero initialization and the symmetry problem

    **Claim.** If every hidden unit starts with the same incoming weights, every hidden unit
    computes the same $a^{(1)}_j$, receives the same $\delta^{(1)}_j$, and gets the same
    update: the units stay identical forever, and the layer is worth one unit. With all
    weights *zero* it is worse: $a^{(1)} = \tanh(0) = 0$, so
    $\partial L/\partial W^{(2)} = \delta^{(2)} a^{(1)\top} = 0$, and
    $\delta^{(1)} = f'(z^{(1)}) \odot W^{(2)\top} \delta^{(2)} = 0$: only the output bias
    learns.

    **Experiment.** The same MLP 64-32-10 (tanh) on the digits, trained identically (SGD with
    momentum, 20 epochs) from three initializations: all parameters 0, all parameters 0.1, and
    the default random one.
    """),
    code("""
    symmetry = {}
    for name in ["zeros", "constant 0.1", "random"]:
        nn.manual_seed(0)
        model = nn.MLP([64, 32, 10], activation="tanh")
        if name != "random":
            for p in model.parameters():
                nn.init.constant_(p, 0.0 if name == "zeros" else 0.1)
        h = nn.fit(model, nn.CrossEntropyLoss(),
                   nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
                   loader(X_train, y_train, seed=0), epochs=20, val_loader=val_loader,
                   progress=False)
        W1 = linears(model)[0].weight.data  # (32 hidden units, 64 inputs)
        s = np.linalg.svd(W1, compute_uv=False)
        symmetry[name] = (W1, s)
        rank = int(np.sum(s > 1e-10 * max(s[0], 1e-300)))
        print(f"{name:13s} val accuracy {h['val_accuracy'][-1]:.3f}   "
              f"max |W1[j] - W1[0]| = {np.abs(W1 - W1[0]).max():.3g}   "
              f"|W1| = {np.linalg.norm(W1):.3g}   "
              f"|W2| = {np.linalg.norm(linears(model)[1].weight.data):.3g}   "
              f"rank W1 = {rank}")
    """),
    code("""
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8), layout="constrained",
                             gridspec_kw={"width_ratios": [1, 1, 1.1]})
    for ax, name in zip(axes[:2], ["constant 0.1", "random"]):
        W1 = symmetry[name][0]
        lim = np.abs(W1).max()
        im = ax.imshow(W1, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
        ax.set(title=f"$W^{{(1)}}$ after training, init {name}", xlabel="input pixel",
               ylabel="hidden unit")
        ax.grid(False)
        fig.colorbar(im, ax=ax)
    for name in ["constant 0.1", "random"]:
        s = symmetry[name][1]
        axes[2].semilogy(np.arange(1, len(s) + 1), np.maximum(s, 1e-18), marker=".", label=name)
    axes[2].set(title="singular values of $W^{(1)}$ (floored at 1e-18)", xlabel="index",
                ylabel="singular value")
    axes[2].legend()
    plt.show()
    """),
    md(r"""
    **Reading.** From zeros, $W^{(1)}$ and $W^{(2)}$ are still exactly zero after 20 epochs;
    only the output bias moved, so the network predicts (about) the most frequent class. From
    the constant 0.1, the weights did change, but all 32 rows of $W^{(1)}$ are equal to the
    last bit (the heat map has only vertical stripes; one non-zero singular value, the rest at
    round-off level): 32 copies of one unit, and a clearly worse accuracy. Random
    initialization breaks the symmetry; every unit learns its own feature. Biases may start
    at zero; hidden weights never.
    """),
    # ------------------------------------------------------------------------------------------
    md(r"""
    ## 4. Vanishing gradients in deep sigmoid networks

    **Claim.** Unrolling the backprop recursion,
    $\delta^{(l)} = f'(z^{(l)}) \odot W^{(l+1)\top} \big(f'(z^{(l+1)}) \odot W^{(l+2)\top}
    \cdots\big)$: every layer multiplies the signal by a factor $f'(z)$. For the sigmoid
    $\sigma'(z) = \sigma(z)(1-\sigma(z)) \le 1/4$, so with weights of moderate size the
    gradient shrinks geometrically towards the input. $\tanh'(z) = 1 - \tanh^2 z \le 1$
    equals 1 at $z = 0$, and ReLU's derivative is exactly 1 for active units.

    **Experiment.** Three 10-layer networks (64-32-...-32-10, nine hidden layers) on the
    digits: sigmoid and tanh with Xavier initialization, ReLU with He initialization (biases
    0). One backward pass on 256 training images gives
    $\|\partial L/\partial W^{(l)}\|_F$ per layer; we also record the mean of $f'(z^{(l)})$,
    computed by the library's autodiff (`ag.grad` of $\sum f(z)$), and train each network for
    a few epochs with the same SGD.
    """),
    code("""
    def deep_net(activation, depth=10, width=32):
        nn.manual_seed(0)
        model = nn.MLP([64] + [width] * (depth - 1) + [10], activation=activation)
        for layer in linears(model):
            if activation == "relu":
                nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
            else:
                nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
        return model


    def forward_with_derivatives(model, x):
        \"\"\"Run the layers one by one: the output, and the mean f'(z) of each hidden layer.\"\"\"
        a, slopes = ag.Tensor(x), []
        for layer in model.layers:
            if not isinstance(layer, nn.Linear):  # an activation: f'(z) by autodiff
                fprime = ag.grad(lambda z, f=layer: f(z).sum())(a.detach())
                slopes.append(float(fprime.numpy().mean()))
            a = layer(a)
        return a, slopes


    deep = {}
    for activation in ["sigmoid", "tanh", "relu"]:
        model = deep_net(activation)
        out, slopes = forward_with_derivatives(model, X_train[:256])
        nn.CrossEntropyLoss()(out, y_train[:256]).backward()
        grad_norms = [np.linalg.norm(layer.weight.grad.numpy()) for layer in linears(model)]
        h = nn.fit(model, nn.CrossEntropyLoss(), nn.optim.SGD(model.parameters(), lr=0.1),
                   loader(X_train, y_train, seed=0), epochs=6, val_loader=val_loader,
                   progress=False)
        deep[activation] = (grad_norms, slopes, h)
        print(f"{activation:8s} |dL/dW| layer 1 / layer 10 = {grad_norms[0] / grad_norms[-1]:.2e}"
              f"   mean f'(z) per hidden layer: {np.round(slopes, 3)}"
              f"   val accuracy after 6 epochs {h['val_accuracy'][-1]:.3f}")
    """),
    code("""
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.9), layout="constrained")
    for activation, (grad_norms, slopes, h) in deep.items():
        layers = np.arange(1, len(grad_norms) + 1)
        axes[0].semilogy(layers, grad_norms, marker="o", label=activation)
        axes[1].plot(layers[:-1], slopes, marker="o", label=activation)
        axes[2].plot(h.epochs, h["loss"], marker=".", label=activation)
    axes[0].set(title="weight-gradient norm per layer (one batch)", xlabel="layer $l$",
                ylabel=r"$\\|\\partial L / \\partial W^{(l)}\\|_F$", xticks=range(1, 11))
    axes[1].axhline(0.25, color="k", ls="--", lw=1, label=r"$\\max \\sigma' = 1/4$")
    axes[1].set(title="mean $f'(z^{(l)})$ per hidden layer", xlabel="layer $l$",
                ylabel="mean $f'(z)$", ylim=(0, 1.3), xticks=range(1, 10))
    axes[2].set(title="training loss, 10-layer networks, SGD lr 0.1", xlabel="epoch",
                ylabel="cross-entropy")
    axes[0].legend()
    axes[1].legend(loc="upper center", ncol=4, fontsize=8)
    axes[2].legend()
    plt.show()
    """),
    md(r"""
    **Reading.** In the sigmoid network the gradient reaching the first layer is about
    $10^{-5}$-$10^{-6}$ times the one at the last layer (ratio printed above), a factor of
    roughly 4 per layer, which is what the measured mean $\sigma'(z) \approx 0.23 \le 1/4$ per layer
    predicts.
    Its first layers barely move, and the training loss stays at $\ln 10 \approx 2.30$ (chance).
    Tanh with Xavier keeps $f'(z)$ near 1 at initialization and its gradients stay within one
    order of magnitude; ReLU with He initialization likewise. Both train (ReLU less
    steadily at this learning rate). (Tanh also vanishes
    once units saturate or weights are too small; see the next section.)
    """),
    # ------------------------------------------------------------------------------------------
    md(r"""
    ## 5. Xavier vs He initialization: per-layer activation statistics

    **Claim.** For $z^{(l)} = W^{(l)} a^{(l-1)}$ with independent zero-mean weights of variance
    $v$, $\operatorname{Var} z^{(l)} \approx n_{\text{in}}\, v\, \mathbb{E}[(a^{(l-1)})^2]$.

    - Xavier/Glorot: $W \sim U\big(-\sqrt{6/(n_\text{in}+n_\text{out})},
      +\sqrt{6/(n_\text{in}+n_\text{out})}\big)$, so $v = 1/n_\text{in}$ for square layers:
      keeps the variance for an activation that is linear near 0 (tanh).
    - He/Kaiming: $W \sim N(0, 2/n_\text{in})$: ReLU zeroes half of its inputs, which halves
      $\mathbb{E}[a^2]$; the factor 2 compensates.
    - Small random $N(0, 0.01^2)$: $n_\text{in} v = 256 \cdot 10^{-4} \approx 0.026$, so the
      standard deviation shrinks by about $\sqrt{0.026} \approx 0.16$ per layer.

    **Experiment.** Ten layers of width 256 (biases 0), a batch of 512 standard normal inputs;
    we record the standard deviation of every $a^{(l)}$ on the forward pass, and of the
    gradient $\partial L/\partial a^{(l)}$ on the backward pass for a random linear read-out
    $L = \sum_i r_i a^{(10)}_i$.
    """),
    code("""
    inits = {
        "tanh + Xavier": ("tanh", lambda w: nn.init.xavier_uniform_(w)),
        "ReLU + Xavier": ("relu", lambda w: nn.init.xavier_uniform_(w)),
        "ReLU + He": ("relu", lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu")),
        "tanh + N(0, 0.01²)": ("tanh", lambda w: nn.init.normal_(w, 0.0, 0.01)),
    }
    rng = np.random.default_rng(1)
    x_gauss = rng.standard_normal((512, 256))
    readout = rng.standard_normal((512, 256))
    stats = {}
    for name, (activation, init_weight) in inits.items():
        nn.manual_seed(0)
        layers = []
        for _ in range(10):
            layer = nn.Linear(256, 256)
            init_weight(layer.weight)
            nn.init.zeros_(layer.bias)
            layers += [layer, nn.make_activation(activation)]
        model = nn.Sequential(*layers)
        a, acts = ag.Tensor(x_gauss), []
        for layer in model:
            a = layer(a)
            if not isinstance(layer, nn.Linear):
                a.retain_grad()
                acts.append(a)
        (a * readout).sum().backward()
        stats[name] = ([t.numpy().std() for t in acts], [t.grad.numpy().std() for t in acts])
        forward_std, backward_std = stats[name]
        print(f"{name:19s} std a(1) = {forward_std[0]:.3g}, std a(10) = {forward_std[-1]:.3g};"
              f"  std dL/da(1) = {backward_std[0]:.3g}, std dL/da(10) = {backward_std[-1]:.3g}")
    """),
    code("""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4), layout="constrained")
    layer_index = np.arange(1, 11)
    for name, (forward_std, backward_std) in stats.items():
        axes[0].semilogy(layer_index, forward_std, marker="o", label=name)
        axes[1].semilogy(layer_index, backward_std, marker="o", label=name)
    axes[0].set(title="forward: std of activations $a^{(l)}$", xlabel="layer $l$",
                ylabel="std", xticks=layer_index)
    axes[1].set(title=r"backward: std of gradients $\\partial L/\\partial a^{(l)}$",
                xlabel="layer $l$", ylabel="std", xticks=layer_index)
    for ax in axes:
        ax.legend()
    plt.show()
    """),
    md(r"""
    **Reading.** ReLU + He keeps the activation scale flat across ten layers, forward and
    backward. ReLU + Xavier loses a factor $\approx 1/\sqrt 2$ per layer (the half that ReLU
    zeroes is not compensated): $(1/\sqrt 2)^9 \approx 0.044$ from layer 1 to layer 10, which is
    the ratio printed above; its gradients shrink the same way towards the input.
    Tanh + Xavier decays slowly (tanh is contractive away from 0) but stays in a usable range.
    $N(0, 0.01^2)$ collapses by about 0.16 per layer, to $\sim 10^{-8}$ at layer 10: the
    deep layers see (numerically almost) nothing, and the gradients reaching the first layers
    vanish the same way.
    """),
    # ------------------------------------------------------------------------------------------
    md(r"""
    ## 6. Dead ReLUs

    **Claim.** A ReLU unit with $z_j \le 0$ on *every* training input outputs 0 everywhere and
    has $f'(z_j) = 0$, so $\delta_j = 0$ and its incoming weights get exactly zero gradient:
    once dead, it stays dead. Units die when a large update pushes their weights or bias far
    negative (too large a learning rate), or start dead with a strongly negative bias.

    **Experiment.** MLP 64-128-10 (ReLU) on the digits with plain SGD: a healthy learning rate
    0.1, too-large rates 1 and 2, and a bias initialized at $-0.5$ (learning rate 0.1). After
    every epoch, we count the hidden units that are zero on all 1100 training images.
    """),
    code("""
    def dead_fraction(model, X):
        \"\"\"Share of the hidden ReLU units that output 0 on every row of X.\"\"\"
        with ag.no_grad():
            a = model.layers[1](model.layers[0](ag.Tensor(X))).numpy()
        return float(np.mean((a > 0).sum(axis=0) == 0))


    dead_runs = {}
    for name, lr, bias in [("healthy: lr 0.1", 0.1, None), ("lr 1", 1.0, None),
                           ("lr 2", 2.0, None), ("bias init -0.5, lr 0.1", 0.1, -0.5)]:
        nn.manual_seed(0)
        model = nn.MLP([64, 128, 10], activation="relu")
        if bias is not None:
            nn.init.constant_(model.layers[0].bias, bias)
        optimizer = nn.optim.SGD(model.parameters(), lr=lr)
        train = loader(X_train, y_train, seed=0)
        dead, acc = [dead_fraction(model, X_train)], []
        for _ in range(10):
            h = nn.fit(model, nn.CrossEntropyLoss(), optimizer, train, epochs=1,
                       val_loader=val_loader, progress=False)
            dead.append(dead_fraction(model, X_train))
            acc.append(h["val_accuracy"][-1])
        dead_runs[name] = (dead, acc, model)
        print(f"{name:23s} dead at init {dead[0]:6.1%}   after 10 epochs {dead[-1]:6.1%}"
              f"   val accuracy {acc[-1]:.3f}")
    """),
    code("""
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.9), layout="constrained")
    for name, (dead, acc, _) in dead_runs.items():
        axes[0].plot(range(len(dead)), np.array(dead) * 100, marker="o", label=name)
        axes[1].plot(range(1, len(acc) + 1), acc, marker="o", label=name)
    axes[0].set(title="dead hidden units (zero on every training image)", xlabel="epoch",
                ylabel="dead units (%)", ylim=(-3, 103))
    axes[1].set(title="validation accuracy", xlabel="epoch", ylabel="accuracy", ylim=(0, 1))
    for ax in axes:
        ax.legend()
    plt.show()

    # Once dead, the gradient of the unit's incoming weights is exactly zero:
    _, _, model = dead_runs["bias init -0.5, lr 0.1"]
    with ag.no_grad():
        z1 = model.layers[0](ag.Tensor(X_train)).numpy()
    is_dead = (z1 > 0).sum(axis=0) == 0
    model.zero_grad()
    nn.CrossEntropyLoss()(model(X_train), y_train).backward()
    row_norms = np.linalg.norm(model.layers[0].weight.grad.numpy(), axis=1)
    print(f"bias -0.5 run: {is_dead.sum()} dead units; largest gradient norm of a dead unit's "
          f"weights: {row_norms[is_dead].max()}; of a live unit: {row_norms[~is_dead].max():.3g}")
    """),
    md(r"""
    **Reading.** With learning rate 0.1 only the few units that started dead stay so. With
    learning rate 1 the first large steps kill a share of the units for good (the curve
    only climbs), and with 2 practically the whole layer dies and the network is stuck near
    chance. With a bias of $-0.5$, most units are dead before training starts and none
    revives: their weight gradient is exactly 0, as printed. Cures: a smaller learning rate,
    He initialization with zero biases, or leaky ReLU/ELU, whose negative side keeps a slope.
    """),
    # ------------------------------------------------------------------------------------------
    md(r"""
    ## 7. Overfitting and regularization

    **Claim.** A network with far more parameters than training points can memorize them:
    the training loss goes to 0 while the validation loss, after a minimum, rises. The
    regularized risk $\frac1N \sum L(y, \hat y) + \frac{\lambda}{2} \|W\|_F^2$ (L2, i.e.
    weight decay $w \leftarrow w - \eta(\partial L/\partial w + \lambda w)$), dropout
    (each hidden unit zeroed with probability $p$ during training, off at evaluation) and
    batch norm (normalizing $z$ with mini-batch statistics, which adds noise) all fight this.

    **Experiment.** Two moons with label noise: only 60 training points, 1000 validation
    points. An MLP 2-64-64-2 (about 4,500 parameters, 75 per training point) trained 200 epochs with
    SGD + momentum, four ways: plain, L2 (`weight_decay=0.01`), dropout $p = 0.5$
    (`MLP(..., dropout=0.5)`), and batch norm (`MLP(..., norm="batch")`).
    """),
    code("""
    X_moons, y_moons = nn.datasets.make_moons(60, noise=0.35, seed=0)
    X_moons_val, y_moons_val = nn.datasets.make_moons(1000, noise=0.35, seed=1)
    moons_val = loader(X_moons_val, y_moons_val, batch_size=1000, shuffle=False)

    regularizers = {
        "plain": ({}, 0.0),
        "L2 (weight decay 0.01)": ({}, 0.01),
        "dropout 0.5": ({"dropout": 0.5}, 0.0),
        "batch norm": ({"norm": "batch"}, 0.0),
    }
    reg_runs = {}
    for name, (kwargs, weight_decay) in regularizers.items():
        nn.manual_seed(0)
        model = nn.MLP([2, 64, 64, 2], **kwargs)
        optimizer = nn.optim.SGD(model.parameters(), lr=0.05, momentum=0.9,
                                 weight_decay=weight_decay)
        h = nn.fit(model, nn.CrossEntropyLoss(), optimizer,
                   loader(X_moons, y_moons, batch_size=20, seed=0), epochs=200,
                   val_loader=moons_val, progress=False)
        reg_runs[name] = (model, h)

    n_params = sum(p.numel() for p in reg_runs["plain"][0].parameters())
    print(f"{n_params} parameters, {len(y_moons)} training points\\n")
    print(f"{'':24s}{'train acc':>10s}{'val acc':>9s}{'acc gap':>9s}"
          f"{'train loss':>12s}{'val loss':>10s}{'min val loss (epoch)':>23s}")
    for name, (model, h) in reg_runs.items():
        train_acc = np.mean(nn.predict(model, X_moons).argmax(1) == y_moons)  # eval mode
        train_loss = nn.evaluate(model, loader(X_moons, y_moons, 60, shuffle=False),
                                 nn.CrossEntropyLoss())["loss"]
        val_loss = np.array(h["val_loss"])
        print(f"{name:24s}{train_acc:10.3f}{h['val_accuracy'][-1]:9.3f}"
              f"{train_acc - h['val_accuracy'][-1]:9.3f}{train_loss:12.4f}{val_loss[-1]:10.3f}"
              f"{val_loss.min():15.3f} ({val_loss.argmin() + 1:3d})")
    """),
    code("""
    fig, axes = plt.subplots(2, 4, figsize=(16, 7.4), layout="constrained")
    for k, (name, (model, h)) in enumerate(reg_runs.items()):
        ax = axes[0, k]
        val_acc = h["val_accuracy"][-1]
        plot_boundary(ax, model, X_moons, y_moons, f"{name}\\nval accuracy {val_acc:.3f}",
                      lim=(-2.0, 3.0))
        ax = axes[1, k]
        ax.plot(h.epochs, h["loss"], label="training (running, in train mode)")
        ax.plot(h.epochs, h["val_loss"], label="validation")
        ax.set(yscale="log", ylim=(0.02, 3), xlabel="epoch", ylabel="cross-entropy",
               title=f"{name}: loss curves")
        ax.legend(fontsize=8)
    plt.show()
    """),
    md(r"""
    **Reading.** Without regularization the network bends its boundary around individual
    noisy training points: its training loss keeps falling, while the validation loss
    bottoms out early and then climbs (the model becomes confidently wrong on new points).
    The gap between the training and validation columns of the table is the overfitting, and
    the plain run has the largest. Weight decay keeps the weights small, the boundary smooth,
    and the validation loss flat near its minimum; here it gives the best validation accuracy.
    Dropout narrows the accuracy gap almost as much; batch norm narrows it less, but both keep
    the final validation loss well below the plain run's, with a smaller gain in accuracy on
    this tiny 2-D problem. (The training curves are running averages in training mode, i.e.
    *with* dropout on; the table's training columns are in
    evaluation mode.)
    """),
    # ------------------------------------------------------------------------------------------
    md(r"""
    ## 8. Optimizers: SGD, momentum, Adam

    **Claim.** Plain SGD steps along $-\eta\, \nabla L$. Momentum accumulates a velocity
    $v \leftarrow \mu v + \nabla L$, $w \leftarrow w - \eta v$: where the gradient keeps its
    sign the steps add up (faster progress), where it flips sign from step to step they partly
    cancel (damped oscillation). Adam divides each coordinate's step by a running RMS of its
    gradients, so all coordinates move at a similar pace.

    How much momentum damps is a condition, not a given. Along a direction of curvature
    $\lambda$ the error of SGD is multiplied by $1 - \eta\lambda$ per step: for
    $1 < \eta\lambda < 2$ the factor is negative, and $w$ jumps across the valley at every step
    (the zig-zag). With momentum the error obeys
    $e_{k+1} = (1 + \mu - \eta\lambda)\, e_k - \mu\, e_{k-1}$ and shrinks per step by the
    spectral radius of $\begin{pmatrix} 1 + \mu - \eta\lambda & -\mu \\ 1 & 0 \end{pmatrix}$,
    which equals $\sqrt{\mu}$ whenever $(1 + \mu - \eta\lambda)^2 < 4\mu$ (complex
    eigenvalues: the error spirals). For $1 < \eta\lambda < 2$ it is
    below SGD's $|1 - \eta\lambda|$ exactly when $\mu < (1 - \eta\lambda)^2$: a small enough
    $\mu$ damps the zig-zag, a larger one overshoots more than SGD.

    **Experiment.** A 2-D ill-conditioned quadratic $L(w) = \frac12 (w_1^2 + 50 w_2^2)$
    (curvatures 1 and 50) from $(-4, 1)$. SGD and momentum share the learning rate
    $\eta = 0.036$, just under SGD's limit $2/50$, so that $1 - 50\eta = -0.8$:
    $(1 - \eta\lambda)^2 = 0.64$ separates damping from overshooting, and we try $\mu = 0.5$
    and the common default $\mu = 0.9$. Adam gets a learning rate of its own.
    """),
    code("""
    def quadratic(w):
        return 0.5 * (w[0] ** 2 + 50 * w[1] ** 2)


    def contraction(lr, momentum, curvature):
        \"\"\"Per-step shrink factor of the error along one direction: a spectral radius.\"\"\"
        step = np.array([[1 + momentum - lr * curvature, -momentum], [1.0, 0.0]])
        return np.abs(np.linalg.eigvals(step)).max()


    lr = 0.036
    optimizer_factories = {  # name -> (make, momentum or None for Adam)
        "SGD": (lambda params: nn.optim.SGD(params, lr=lr), 0.0),
        "momentum 0.5": (lambda params: nn.optim.SGD(params, lr=lr, momentum=0.5), 0.5),
        "momentum 0.9": (lambda params: nn.optim.SGD(params, lr=lr, momentum=0.9), 0.9),
        "Adam lr 0.3": (lambda params: nn.optim.Adam(params, lr=0.3), None),
    }
    paths, quad_losses = {}, {}
    print(f"η = {lr} for SGD and momentum; predicted shrink factor per step along w1 and w2\\n")
    print(f"{'':14s}{'shrink w1':>10s}{'shrink w2':>10s}{'max |w2|, steps 2-40':>22s}"
          f"{'L at step 40':>14s}{'steps until L < 1e-3':>22s}")
    for name, (make, momentum) in optimizer_factories.items():
        w = nn.Parameter(np.array([-4.0, 1.0]))
        optimizer = make([w])
        path = [w.numpy().copy()]
        for _ in range(200):
            loss = quadratic(w)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            path.append(w.numpy().copy())
        path = np.array(path)
        paths[name], quad_losses[name] = path, quadratic(path.T)
        above = np.flatnonzero(quad_losses[name] >= 1e-3)  # L stays below 1e-3 after the last
        converged = f"{above[-1] + 1}" if above[-1] < 200 else "> 200"
        if momentum is None:  # Adam: no linear recursion, no single factor
            shrink = f"{'-':>10s}{'-':>10s}"
        else:
            shrink = f"{contraction(lr, momentum, 1):10.3f}{contraction(lr, momentum, 50):10.3f}"
        print(f"{name:14s}{shrink}{np.abs(path[2:41, 1]).max():22.3f}"
              f"{quad_losses[name][40]:14.2e}{converged:>22s}")
    """),
    code("""
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.3), layout="constrained",
                             gridspec_kw={"width_ratios": [1.25, 1, 1]})
    g1, g2 = np.meshgrid(np.linspace(-4.5, 2.0, 200), np.linspace(-1.1, 1.1, 200))
    axes[0].contour(g1, g2, 0.5 * (g1**2 + 50 * g2**2), levels=np.geomspace(0.05, 80, 12),
                    colors="grey", linewidths=0.6)
    for k, (name, path) in enumerate(paths.items()):
        axes[0].plot(path[:41, 0], path[:41, 1], marker=".", ms=4, lw=1, color=f"C{k}",
                     label=name)
        axes[1].semilogy(np.abs(path[:41, 1]) + 1e-12, marker=".", ms=4, lw=1, color=f"C{k}",
                         label=name)
        momentum = optimizer_factories[name][1]
        if momentum is not None:  # the predicted envelope: shrink factor ** step
            rate = contraction(lr, momentum, 50)
            axes[1].semilogy(np.arange(41), rate ** np.arange(41), ls="--", lw=1,
                             color=f"C{k}")
        axes[2].semilogy(quad_losses[name][:101], lw=1.5, color=f"C{k}", label=name)
    axes[0].plot(0, 0, "k*", ms=12, label="minimum")
    axes[0].set(title="paths, 40 steps: look at the jumps across the valley ($w_2$)",
                xlabel="$w_1$ (flat, curvature 1)", ylabel="$w_2$ (steep, curvature 50)")
    axes[0].legend(fontsize=8, loc="lower right")
    axes[1].set(title="$|w_2|$ per step; dashed: predicted shrink factor$^k$",
                xlabel="step $k$", ylabel="$|w_2|$", ylim=(1e-5, 2))
    axes[1].legend(fontsize=8, loc="lower left")
    axes[2].axhline(1e-3, color="k", ls=":", lw=1)
    axes[2].set(title=r"loss $\\frac{1}{2}(w_1^2 + 50 w_2^2)$ per step", xlabel="step",
                ylabel="L", ylim=(1e-8, 100))
    axes[2].legend(fontsize=8)
    plt.show()
    """),
    md(r"""
    **Reading.** The numbers follow the condition; the dashed lines (the predicted factors
    raised to the step number) lie on the measured swings. SGD's $w_2$ changes sign at every
    step and shrinks by $|1 - 50\eta| = 0.8$ per step, while along the flat $w_1$ it gains only
    a factor $1 - \eta = 0.964$ per step: its loss is almost all $w_1$ (at step 40,
    $\frac12 w_1^2$ is practically the whole of $L$), and it needs 123 steps to get $L$ below
    $10^{-3}$. Momentum 0.5 ($\mu < 0.64$) damps the zig-zag: after the first step (the same
    for SGD and momentum, $w_2 = -0.8$) its largest swing is 0.48 instead of 0.64, and the
    swings shrink by $\sqrt{0.5} \approx 0.71$ per step; it is also faster along $w_1$ (0.921
    per step). Its loss after 40 steps is 30 times lower, below $10^{-3}$ after 57 steps.
    Momentum 0.9 ($\mu > 0.64$) overshoots: $w_2$ swings back to 0.98, nearly where it
    started, the swings shrink by only $\sqrt{0.9} \approx 0.95$ per step, and it overshoots
    the minimum along $w_1$ as well. It still ends lower than SGD, whose loss is held back by
    the slow $w_1$, but it needs 104 steps, nearly twice as many as $\mu = 0.5$.
    Adam's first steps have the same size, $\eta$, in both coordinates whatever the
    curvature, so it heads off diagonally, overshoots in $w_1$ and curls back; at its fixed
    learning rate it keeps circling the minimum, and its loss falls in bursts (below
    $10^{-3}$ for good after 92 steps).
    """),
    md(r"""
    Then the digits MLP 64-64-10 from the *same* initial weights (a copied state dict) and the
    same batches, 8 epochs, with the loss recorded at every step, with the usual settings of
    each optimizer: SGD and SGD with momentum 0.9 at $\eta = 0.05$, Adam at its default rate
    $10^{-3}$.
    """),
    code("""
    nn.manual_seed(0)
    start_state = nn.MLP([64, 64, 10]).state_dict()
    digit_optimizers = {
        "SGD lr 0.05": lambda params: nn.optim.SGD(params, lr=0.05),
        "SGD + momentum 0.9, lr 0.05": lambda params: nn.optim.SGD(params, lr=0.05, momentum=0.9),
        "Adam lr 1e-3": lambda params: nn.optim.Adam(params, lr=1e-3),
    }
    curves = {}
    for name, make in digit_optimizers.items():
        model = nn.MLP([64, 64, 10])
        model.load_state_dict(start_state)  # the same starting point for everyone
        optimizer = make(model.parameters())
        loss_fn = nn.CrossEntropyLoss()
        step_losses = []
        for epoch in range(8):
            for x, labels in loader(X_train, y_train, seed=epoch):  # the same batches for all
                loss = loss_fn(model(x), labels)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                step_losses.append(loss.item())
        val_acc = nn.evaluate(model, val_loader)["accuracy"]
        curves[name] = (np.array(step_losses), val_acc)
        print(f"{name:28s} mean loss over the last epoch {np.mean(step_losses[-35:]):.4f}"
              f"   val accuracy {val_acc:.3f}")
    """),
    code("""
    fig, ax = plt.subplots(figsize=(8, 4), layout="constrained")
    window = 20
    for name, (losses, val_acc) in curves.items():
        smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
        ax.plot(np.arange(window, len(losses) + 1), smooth,
                label=f"{name} (val acc {val_acc:.3f})")
    ax.set(yscale="log", xlabel="step (35 per epoch)", ylabel="cross-entropy",
           title=f"digits MLP: training loss per step (mean of {window}); lower is better")
    ax.legend()
    plt.show()
    """),
    md(r"""
    **Reading.** From identical weights and identical batches, plain SGD is the slowest;
    momentum 0.9 at the same learning rate is the fastest here, and Adam at its default rate
    $10^{-3}$ lies in between (mean losses over the last epoch printed above). So
    $\mu = 0.9$, which overshot on the quadratic, is the best of the three on this network:
    whether momentum damps or overshoots depends on $\eta$ and the curvature together, not on
    $\mu$ alone. Learning rates are not comparable across optimizers: each was set to a
    typical value for it.
    """),
    # ------------------------------------------------------------------------------------------
    md(r"""
    ## 9. A gallery of activations and their derivatives

    Each panel shows an activation $f$ (solid) and its derivative $f'$ (dashed), where $f'$ is
    not typed in but computed by `autograd_core`'s reverse mode: since $f$ acts elementwise,
    $\nabla_x \sum_i f(x_i) = \big(f'(x_i)\big)_i$, i.e. `ag.grad(lambda x: f(x).sum())(grid)`.
    Parametrized ones use $\gamma = 0.1$ for leaky ReLU (0.01 is the usual value but invisible
    at this scale), PReLU's initial $\gamma = 0.25$ (learnable), ELU's $\gamma = 1$, and DyT's
    initial $\alpha = 0.5$ (learnable). Maxout is a layer rather than a scalar function: the
    panel shows one unit with $k = 3$ affine pieces $w_k x + b_k$ of a scalar input.
    """),
    code("""
    grid = np.linspace(-4, 4, 801)


    def derivative(f):
        \"\"\"f' on the grid by reverse-mode autodiff (f acts elementwise).\"\"\"
        return ag.grad(lambda x: f(x).sum())(grid).numpy()


    def value(f):
        with ag.no_grad():
            return f(ag.Tensor(grid)).numpy()


    maxout_unit = nn.Maxout(1, 1, k=3)
    maxout_unit.weight.data[:] = [[[-0.8]], [[0.15]], [[0.7]]]  # three pieces, set by hand
    maxout_unit.bias.data[:] = [[0.0], [0.6], [-0.5]]
    gallery = {
        "sigmoid": [("σ", nn.Sigmoid())],
        "tanh": [("tanh", nn.Tanh())],
        "hard-logistic vs PyTorch's hardsigmoid": [
            ("hard-logistic", nn.HardLogistic()), ("hardsigmoid", nn.HardSigmoid())],
        "hard-tanh": [("hard-tanh", nn.HardTanh())],
        "ReLU": [("ReLU", nn.ReLU())],
        "leaky ReLU, γ = 0.1": [("leaky ReLU", nn.LeakyReLU(0.1))],
        "PReLU, γ = 0.25 (learnable)": [("PReLU", nn.PReLU(init=0.25))],
        "ELU, γ = 1": [("ELU", nn.ELU(1.0))],
        "softplus": [("softplus", nn.Softplus())],
        "swish x σ(βx)": [(f"β = {b}", nn.Swish(b)) for b in (0.0, 1.0, 5.0)],
        "GELU x Φ(x) and approximations": [
            ("exact (erf)", nn.GELU("none")), ("tanh approx.", nn.GELU("tanh")),
            ("x σ(1.702x)", nn.GELU("sigmoid"))],
        "DyT γ tanh(αx) + β, α = 0.5": [("DyT", nn.DyT(1))],
        "maxout, k = 3 pieces": [("maxout", lambda x: maxout_unit(x.reshape(-1, 1)).reshape(-1))],
    }
    fig, axes = plt.subplots(3, 5, figsize=(17, 9.5), layout="constrained")
    for ax, (title, fs) in zip(axes.flat, gallery.items()):
        for k, (label, f) in enumerate(fs):
            color = f"C{k}"
            ax.plot(grid, value(f), color=color, label=f"{label}")
            ax.plot(grid, derivative(f), color=color, ls="--", label=f"{label}'")
        ax.set(title=title, xlabel="x", ylabel="f(x), f'(x)")
        ax.legend(fontsize=7)

    # GELU: how far the approximations are from the exact function and derivative
    ax = axes.flat[13]
    exact, dexact = value(nn.GELU("none")), derivative(nn.GELU("none"))
    for k, approx in enumerate(["tanh", "sigmoid"]):
        f = nn.GELU(approx)
        ax.semilogy(grid, np.abs(value(f) - exact) + 1e-18, color=f"C{k + 1}",
                    label=f"{approx}: |f - f_exact|")
        ax.semilogy(grid, np.abs(derivative(f) - dexact) + 1e-18, color=f"C{k + 1}", ls="--",
                    label=f"{approx}: |f' - f'_exact|")
    ax.set(title="GELU approximation errors", xlabel="x", ylabel="absolute error", ylim=(1e-8, 1))
    ax.legend(fontsize=7)

    # sigmoid' vs tanh': the per-layer factors of backprop (section 4)
    ax = axes.flat[14]
    ax.plot(grid, derivative(nn.Sigmoid()), label="σ'(x)")
    ax.plot(grid, derivative(nn.Tanh()), label="tanh'(x)")
    ax.axhline(0.25, color="k", ls=":", lw=1, label="1/4")
    ax.set(title="the backprop factors σ' ≤ 1/4, tanh' ≤ 1", xlabel="x", ylabel="derivative")
    ax.legend(fontsize=7)
    plt.show()
    """),
    md(r"""
    The autodiff derivatives agree with the closed forms of the course to round-off (a check,
    not an assumption), and the maxima of $\sigma'$ and $\tanh'$ are the 1/4 and 1 used in
    section 4:
    """),
    code("""
    sig = 1 / (1 + np.exp(-grid))
    phi = np.exp(-grid**2 / 2) / math.sqrt(2 * math.pi)
    Phi = 0.5 * (1 + np.array([math.erf(v / math.sqrt(2)) for v in grid]))
    closed_forms = {
        "sigmoid: σ' = σ(1 - σ)": (nn.Sigmoid(), sig * (1 - sig)),
        "tanh: tanh' = 1 - tanh²": (nn.Tanh(), 1 - np.tanh(grid) ** 2),
        "softplus: softplus' = σ": (nn.Softplus(), sig),
        "swish β=1: σ(x) + x σ(x)(1 - σ(x))": (nn.SiLU(), sig + grid * sig * (1 - sig)),
        "ELU: 1 if x > 0 else eˣ": (nn.ELU(), np.where(grid > 0, 1.0, np.exp(grid))),
        "GELU: Φ(x) + x φ(x)": (nn.GELU(), Phi + grid * phi),
    }
    for name, (f, expected) in closed_forms.items():
        error = np.abs(derivative(f) - expected).max()
        print(f"{name:38s} max |autodiff - closed form| = {error:.1e}")
    print(f"max σ' on the grid = {derivative(nn.Sigmoid()).max():.4f},"
          f" max tanh' = {derivative(nn.Tanh()).max():.4f}")
    for approx in ["tanh", "sigmoid"]:
        f = nn.GELU(approx)
        print(f"GELU {approx} approximation: max |f - f_exact| = "
              f"{np.abs(value(f) - exact).max():.1e}, max |f' - f'_exact| = "
              f"{np.abs(derivative(f) - dexact).max():.1e}")
    """),
    md(r"""
    **Reading.** The saturating functions (sigmoid, tanh, their hard versions) have
    derivatives that vanish for large $|x|$; the hard versions are exactly flat outside
    $[-2, 2]$ (hard-logistic) or $[-1, 1]$ (hard-tanh). The ReLU family has derivative 1 for
    $x > 0$ and differs only on the negative side: 0 (ReLU: dead units), a small constant
    (leaky, PReLU), or a smooth decay to 0 (ELU). Softplus is a smooth ReLU whose derivative
    is the sigmoid; swish goes from $x/2$ ($\beta = 0$) to ReLU ($\beta \to \infty$); of
    GELU's two approximations the tanh one is more than an order of magnitude closer to the
    exact function than $x\,\sigma(1.702x)$ (errors printed above).
    ReLU's derivative at 0 is taken as 0. Maxout is convex and piecewise
    linear, its derivative a step function.
    """),
    # ------------------------------------------------------------------------------------------
    md(r"""
    ## 10. Universal approximation

    **Claim.** One hidden layer with a squashing activation,
    $\hat y(x) = \sum_{j=1}^{n} v_j \tanh(w_j x + b_j) + c$, approximates any continuous
    function on a compact interval as well as we like, given enough units $n$. Each unit is
    a smoothed step of height $v_j$ at $x = -b_j / w_j$; the network adds up steps.

    **Experiment.** Fit $g(x) = \sin(2x) + 0.3x$ on $[-3, 3]$ (200 points) by MSE with
    networks 1-$n$-1 (tanh) for $n = 1, 2, 4, \dots, 64$, each trained full-batch with Adam
    (1500 steps, cosine-annealed learning rate).
    """),
    code("""
    x_ua = np.linspace(-3, 3, 200)[:, None]
    y_ua = np.sin(2 * x_ua) + 0.3 * x_ua
    widths = [1, 2, 4, 8, 16, 32, 64]
    ua_models, ua_mse = {}, {}
    for n in widths:
        nn.manual_seed(0)
        model = nn.MLP([1, n, 1], activation="tanh")
        optimizer = nn.optim.Adam(model.parameters(), lr=0.03)
        scheduler = nn.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=1500)
        loss_fn, x_t = nn.MSELoss(), ag.Tensor(x_ua)
        for _ in range(1500):
            loss = loss_fn(model(x_t), y_ua)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
        ua_models[n] = model
        ua_mse[n] = float(np.mean((nn.predict(model, x_ua) - y_ua) ** 2))
    print("MSE by width:", {n: f"{m:.1e}" for n, m in ua_mse.items()})
    """),
    code("""
    fig, axes = plt.subplots(1, 4, figsize=(17, 3.9), layout="constrained")
    for ax, n in zip(axes[:3], [2, 8, 64]):
        model = ua_models[n]
        ax.plot(x_ua, y_ua, "k--", lw=2, label="target $\\\\sin 2x + 0.3x$")
        ax.plot(x_ua, nn.predict(model, x_ua), color="C3", label=f"network, {n} units")
        if n == 8:  # the units' contributions v_j tanh(w_j x + b_j)
            W1, b1 = model.layers[0].weight.numpy(), model.layers[0].bias.numpy()
            v = model.layers[2].weight.numpy()[0]
            units = v * np.tanh(x_ua @ W1.T + b1)
            ax.plot(x_ua, units, color="C0", lw=0.8, alpha=0.6)
            ax.plot([], [], color="C0", lw=0.8, label="$v_j \\\\tanh(w_j x + b_j)$")
        ax.set(title=f"1-{n}-1 tanh network, MSE {ua_mse[n]:.1e}", xlabel="x", ylabel="y")
        ax.legend(fontsize=7, loc="upper left", framealpha=0.9)
    axes[3].loglog(widths, [ua_mse[n] for n in widths], marker="o")
    axes[3].set(title="fit error vs hidden width", xlabel="hidden units $n$", ylabel="MSE")
    axes[3].set_xticks(widths, [str(n) for n in widths])
    plt.show()
    """),
    md(r"""
    **Reading.** Two units can only make one wiggle; eight already fit the curve to the width
    of the line, and the panel shows the eight scaled tanh steps that add up to it. The error
    falls by orders of magnitude up to about 8 units; beyond that it is no longer limited by
    the width but by the optimization (1500 steps of Adam from one random start). That is
    the fine print of the theorem: it says a good network *exists*, not that gradient descent
    finds it, nor how many units a given accuracy needs.
    """),
    # ------------------------------------------------------------------------------------------
    md(r"""
    ## Summary

    | phenomenon | what we saw |
    | --- | --- |
    | XOR | no line separates it; one hidden layer does, with zero errors |
    | digits | MLP 64-64-10: test accuracy and confusions computed above |
    | zero / constant init | hidden units stay identical (rank-1 $W^{(1)}$); zeros never move |
    | vanishing gradients | sigmoid: ~4x less gradient per layer ($\sigma' \le 1/4$), no training |
    | Xavier vs He | ReLU needs He to keep its scale; $N(0, 0.01^2)$ collapses geometrically |
    | dead ReLUs | a too-large learning rate or negative bias kills units for good |
    | regularization | L2, dropout, batch norm shrink the train/validation gap |
    | optimizers | momentum damps the zig-zag iff $\mu < (1-\eta\lambda)^2$; it and Adam beat SGD |
    | activations | derivatives by autodiff match the closed forms to round-off |
    | universal approximation | more hidden units fit better, until optimization is the limit |
    """),
]


if __name__ == "__main__":
    build("03_training_feedforward_networks.ipynb", CELLS)
