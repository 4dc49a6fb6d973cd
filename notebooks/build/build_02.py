"""Generate notebooks/02_computation_graphs.ipynb (executed, outputs stored).

Run from the repository root: python notebooks/build/build_02.py
"""

from __future__ import annotations

from _common import build, code, md

CELLS = [
    md(r"""
    # Computation graphs

    Every operation on a `Tensor` that requires gradients is recorded as it runs (a *dynamic*
    graph, define-by-run, as in PyTorch). `backward()` walks that graph from the output to
    the inputs and applies the chain rule at each op. This notebook draws those graphs:

    1. a small expression with its values and gradients;
    2. the backward pass as a table: the δ recursion of backpropagation;
    3. the graph of a gradient (`create_graph=True`), differentiated again;
    4. a custom primitive inside a graph;
    5. a small MLP with its layers drawn as clusters;
    6. the gradient-flow view: vanishing gradients in a deep sigmoid network, next to a ReLU
       network with He initialization.

    In a drawing, boxes are tensors (blue rounded: parameters, dashed: inputs and constants,
    double border: the output) and green ovals are ops.
    """),
    code("""
    %matplotlib inline
    import matplotlib.pyplot as plt
    import numpy as np
    from IPython.display import Markdown, display

    import autograd_core as ag
    from autograd_core import engine

    np.set_printoptions(precision=4, suppress=True)
    """),
    md(r"""
    ## 1. A small expression: $y = \ln x_1 + x_1 x_2 - \sin x_2$ at $(2, 5)$

    The survey example of notebook 1. With `show_values=True` each box shows its value; with
    `show_grads=True` each box with a gradient shows it and is coloured by its norm on a log
    scale (grey: no gradient stored). Only leaves keep `.grad` after `backward()` (and tensors
    on which `retain_grad()` was called), so the intermediates are grey here.
    `retain_graph=True` keeps the intermediate values for the picture (a plain `backward()`
    frees them).
    """),
    code("""
    x1 = ag.Tensor(2.0, requires_grad=True, name="x1")
    x2 = ag.Tensor(5.0, requires_grad=True, name="x2")
    y = ag.log(x1) + x1 * x2 - ag.sin(x2)
    y.name = "y"
    y.backward(retain_graph=True)
    print(f"y = {y.item():.6f}, ∂y/∂x1 = {x1.grad.item()}, ∂y/∂x2 = {x2.grad.item():.6f}")
    ag.draw_graph(y, show_values=True, show_grads=True)
    """),
    md(r"""
    A single neuron with a squared-error loss, $L = (\sigma(w^\top x + b) - t)^2$, this time
    keeping the gradient of the pre-activation $z$ with `retain_grad()`: vectors are shown in
    full, and the colours show where the gradient is large.
    """),
    code("""
    w = ag.Tensor([0.5, -1.0, 2.0], requires_grad=True, name="w")
    b = ag.Tensor(0.1, requires_grad=True, name="b")
    x = ag.Tensor([1.0, 0.5, -0.3], name="x")
    z = w @ x + b
    z.name = "z"
    z.retain_grad()
    L = (ag.sigmoid(z) - 1.0) ** 2
    L.name = "L"
    L.backward(retain_graph=True)
    ag.draw_graph(L, show_values=True, show_grads=True)
    """),
    md(r"""
    ## 2. The backward pass, step by step: the δ recursion

    For a feed-forward network with $z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)}$ and
    $a^{(l)} = f(z^{(l)})$, backpropagation computes the error signals
    $\delta^{(l)} = \partial L / \partial z^{(l)}$ from the output back:

    $$\delta^{(l)} = f'(z^{(l)}) \odot (W^{(l+1)})^\top \delta^{(l+1)}, \qquad
    \frac{\partial L}{\partial W^{(l)}} = \delta^{(l)} (a^{(l-1)})^\top, \qquad
    \frac{\partial L}{\partial b^{(l)}} = \delta^{(l)}.$$

    The engine knows nothing of layers: it applies one vector-Jacobian product per op.
    `ag.backward_steps(L)` replays that pass as a table: at each op the upstream gradient
    (∂L/∂out) arrives and each input receives its share. Below, a 3 → 4 → 2 network on one
    sample, $a^{(1)} = \sigma(z^{(1)})$, identity output and
    $L = \tfrac12 \lVert z^{(2)} - t \rVert^2$. Intermediate results are named v1, v2, … in
    the order they were computed.
    """),
    code("""
    rng = np.random.default_rng(0)
    W1 = ag.Tensor(rng.normal(0, 0.5, (4, 3)), requires_grad=True, name="W1")
    b1 = ag.Tensor(np.zeros(4), requires_grad=True, name="b1")
    W2 = ag.Tensor(rng.normal(0, 0.5, (2, 4)), requires_grad=True, name="W2")
    b2 = ag.Tensor(np.zeros(2), requires_grad=True, name="b2")
    x = ag.Tensor([1.0, -2.0, 0.5], name="x")
    t = ag.Tensor([1.0, 0.0], name="t")

    z1 = W1 @ x + b1
    a1 = ag.sigmoid(z1)
    z2 = W2 @ a1 + b2
    L = 0.5 * ((z2 - t) ** 2).sum()
    for tensor, name in [(z1, "z1"), (a1, "a1"), (z2, "z2"), (L, "L")]:
        tensor.name = name  # the drawing below shows these names; the table numbers v1, v2, …

    steps = ag.backward_steps(L)  # before backward(), which frees the graph
    steps
    """),
    code("""
    order = engine.topological_order(L._node)[::-1]  # forward order, as the table numbers ops
    names = [f"v{order.index(v._node) + 1} = {v.name}" for v in (z1, a1, z2)]
    print("in the table:", ", ".join(names))

    # The δ recursion by hand, in numpy, against what the table's steps computed.
    by_op = {step.op: step for step in steps}  # sub and sigmoid occur once each
    delta2 = by_op["sub"].inputs[0].grad  # what z⁽²⁾ received: δ⁽²⁾ = ∂L/∂z⁽²⁾
    delta1 = by_op["sigmoid"].inputs[0].grad  # what z⁽¹⁾ received: δ⁽¹⁾ = ∂L/∂z⁽¹⁾

    s = 1 / (1 + np.exp(-z1.numpy()))
    by_hand = {
        "δ⁽²⁾ = z⁽²⁾ − t": (delta2, z2.numpy() - t.numpy()),
        "δ⁽¹⁾ = σ'(z⁽¹⁾) ⊙ (W⁽²⁾)ᵀ δ⁽²⁾": (delta1, s * (1 - s) * (W2.numpy().T @ delta2)),
        "∂L/∂W⁽¹⁾ = δ⁽¹⁾ xᵀ": (steps.grad_of(W1), np.outer(delta1, x.numpy())),
        "∂L/∂b⁽¹⁾ = δ⁽¹⁾": (steps.grad_of(b1), delta1),
        "∂L/∂W⁽²⁾ = δ⁽²⁾ (a⁽¹⁾)ᵀ": (steps.grad_of(W2), np.outer(delta2, s)),
    }
    for formula, (from_table, formula_value) in by_hand.items():
        error = np.abs(from_table - formula_value).max()
        print(f"{formula:32s} max |table − formula| = {error:.1e}")

    L.backward(retain_graph=True)  # the real backward pass stores the same gradients in .grad
    print("backward() agrees with the replay:",
          all(np.allclose(p.grad.numpy(), steps.grad_of(p)) for p in (W1, b1, W2, b2)))
    ag.draw_graph(L, show_grads=True, rankdir="TB")
    """),
    md(r"""
    ## 3. A gradient is a graph too: `create_graph=True`

    With `create_graph=True` the backward pass is itself recorded, so the gradient is a
    tensor with a graph of its own, made of the ops the VJP rules used, and it can be
    differentiated again. For $y = x \sin x$: $y' = \sin x + x \cos x$ and
    $y'' = 2 \cos x - x \sin x$. (`engine.grad(outputs, inputs)` returns gradients instead of
    accumulating them, like `torch.autograd.grad`.)
    """),
    code("""
    x = ag.Tensor(1.5, requires_grad=True, name="x")
    y = x * ag.sin(x)
    (dy,) = engine.grad(y, x, create_graph=True)
    dy.name = "dy/dx"
    (d2y,) = engine.grad(dy, x, retain_graph=True)  # keep dy's graph (and values) to draw it

    xv = 1.5
    print(f"dy/dx   = {dy.item():.12f}   closed form {np.sin(xv) + xv * np.cos(xv):.12f}")
    print(f"d²y/dx² = {d2y.item():.12f}   closed form {2 * np.cos(xv) - xv * np.sin(xv):.12f}")
    ag.draw_graph(dy, show_values=True, title="the graph of dy/dx, recorded by the backward pass")
    """),
    md(r"""
    The drawing contains the forward ops the gradient depends on (`sin`, and `cos`, which the
    VJP rule of `sin` uses) and the products of the chain rule. It is an ordinary graph, which
    is why `grad(grad(f))`, `hessian` and gradient penalties work.

    ## 4. A custom primitive in the graph

    A new op is defined once: its forward on numpy arrays, its reverse rule (VJP) and its
    forward-mode rule (JVP). Here is the course's *hard-logistic* activation,
    $\max(\min(0.25x + 0.5, 1), 0)$, whose derivative is $0.25$ on $|x| < 2$ and $0$ outside.
    It then appears in drawings under its own name, and `gradcheck` checks its rules
    against central differences.
    """),
    code("""
    def hard_logistic_rule(g, out, x):
        \"\"\"d/dx hard_logistic(x) = 0.25 on |x| < 2, else 0 (used as VJP and as JVP).\"\"\"
        return g * 0.25 * ag.Tensor(np.abs(x.numpy()) < 2)


    @ag.primitive(vjp=hard_logistic_rule, jvp=hard_logistic_rule)
    def hard_logistic(x):
        \"\"\"max(min(0.25 x + 0.5, 1), 0): the course's hard logistic\"\"\"
        return np.clip(0.25 * x + 0.5, 0.0, 1.0)


    w = ag.Tensor([1.5, -0.5, 3.0], requires_grad=True, name="w")
    x = ag.Tensor([1.0, 2.0, 1.0], name="x")
    h = hard_logistic(w * x)
    out = (h * ag.Tensor([1.0, 2.0, 3.0], name="c")).sum()
    out.name = "out"
    out.backward(retain_graph=True)
    print("gradcheck (reverse and forward mode):",
          ag.gradcheck(hard_logistic, [np.array([-3.0, -1.0, 0.3, 1.9, 2.5])]))
    ag.draw_graph(out, show_values=True, show_grads=True)
    """),
    md(r"""
    The third weight's product lies on the flat part ($w_3 x_3 = 3 > 2$), so its gradient
    is exactly 0: a saturated unit passes no gradient back, the same mechanism as a dead ReLU.

    ## 5. A small MLP, its layers drawn as clusters

    An `nn.Module` tags every op it records with itself (through `ag.module_scope`), so
    `draw_graph` can frame each module call in a labelled cluster and name parameters as
    `named_parameters()` does.

    Below, `Linear` is `nn.Linear` with its weights drawn from a given normal distribution
    (so each experiment controls its initialization), and `Sequential` is `nn.Sequential`
    with a description for its cluster label.
    """),
    code("""
    import nn


    def Linear(n_in, n_out, std, rng):
        \"\"\"nn.Linear (y = x Wᵀ + b, W of shape (out, in)) with W ~ N(0, std²), b = 0.\"\"\"
        layer = nn.Linear(n_in, n_out)
        nn.init.normal_(layer.weight, 0.0, std, generator=rng)
        nn.init.zeros_(layer.bias)
        return layer


    class Sequential(nn.Sequential):
        \"\"\"nn.Sequential whose drawing label says what the network is.\"\"\"

        def __init__(self, *layers, description=""):
            super().__init__(*layers)
            self.description = description

        def extra_repr(self):
            return self.description


    ReLU, Sigmoid = nn.ReLU, nn.Sigmoid
    """),
    code("""
    rng = np.random.default_rng(0)
    net = Sequential(Linear(3, 4, np.sqrt(2 / 3), rng), ReLU(), Linear(4, 2, np.sqrt(2 / 4), rng))
    X = rng.standard_normal((5, 3))  # a batch of 5 samples, row form: H = relu(X W1ᵀ + b1)
    Y = rng.standard_normal((5, 2))
    loss = ((net(X) - Y) ** 2).mean()
    loss.name = "loss"
    loss.backward(retain_graph=True)
    ag.draw_graph(loss, model=net, show_grads=True)
    """),
    md(r"""
    With `collapse_modules=True` each module call becomes one box listing its input and
    output shapes, its parameters and the norm of their gradients: the view to use once a
    network has more than a handful of ops.
    """),
    code("""
    ag.draw_graph(loss, model=net, show_grads=True, collapse_modules=True)
    """),
    md(r"""
    ## 6. Gradient flow: vanishing gradients at a glance

    In the δ recursion every layer multiplies the error signal by $(W^{(l+1)})^\top$ and by
    $f'(z^{(l)})$. The sigmoid's derivative is at most $1/4$, and with small initial weights
    ($\mathcal{N}(0, 0.01^2)$) $W^\top$ shrinks it further, so $\delta^{(l)}$, and with it
    $\partial L / \partial W^{(l)} = \delta^{(l)} (a^{(l-1)})^\top$, decays geometrically
    towards the input: the first layers barely learn. ReLU's derivative is 1 where the unit is
    active, and He initialization, $\mathcal{N}(0, 2/n_\text{in})$, keeps the signal's scale
    from layer to layer.

    Two networks, 8 hidden layers of 32 units each, one regression batch. Each hidden layer
    (linear + activation) is one module, and the drawing collapses those modules
    (`collapse_modules=2`: the network, then its layers). Both graphs are drawn **in one
    picture**, so they share one colour scale: dark means a small gradient norm.
    """),
    code("""
    class Layer(Sequential):
        \"\"\"A hidden layer: linear, then activation.\"\"\"


    def deep_net(activation, std, description, depth=8, width=32, seed=0):
        rng = np.random.default_rng(seed)
        layers = [Layer(Linear(width, width, std(width), rng), activation()) for _ in range(depth)]
        return Sequential(*layers, Linear(width, 1, std(width), rng), description=description)


    nets = {
        "sigmoid, N(0, 0.01²)": deep_net(Sigmoid, lambda n: 0.01, "sigmoid, N(0, 0.01²)"),
        "ReLU, He N(0, 2/n_in)": deep_net(ReLU, lambda n: np.sqrt(2 / n), "ReLU, He N(0, 2/n_in)"),
    }
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((64, 32)), rng.standard_normal((64, 1))
    losses = []
    for net in nets.values():
        loss = ((net(X) - Y) ** 2).mean()
        loss.backward(retain_graph=True)
        losses.append(loss)
    ag.draw_graph(losses, show_grads=True, collapse_modules=2, rankdir="TB")
    """),
    md(r"""
    The same comparison as numbers: the norm of $\partial L / \partial W^{(l)}$ for every
    layer, on a log scale. A third network shows that a better initialization alone does not
    cure the sigmoid: with Xavier initialization, $\mathcal{U}(\pm\sqrt{6/(n_\text{in} +
    n_\text{out})})$, the norms still shrink towards the input, because $\sigma' \le 1/4$.
    """),
    code("""
    def xavier_std(n):  # the std of U(±√(6 / (n + n))), for square layers
        return np.sqrt(6 / (2 * n)) / np.sqrt(3)


    nets["sigmoid, Xavier"] = deep_net(Sigmoid, xavier_std, "sigmoid, Xavier")
    ((nets["sigmoid, Xavier"](X) - Y) ** 2).mean().backward()


    def weight_grad_norms(net):
        return [np.linalg.norm(m.weight.grad.numpy())
                for _, m in net.named_modules() if isinstance(m, nn.Linear)]


    norms = {name: weight_grad_norms(net) for name, net in nets.items()}
    layers = np.arange(1, len(next(iter(norms.values()))) + 1)
    fig, ax = plt.subplots(figsize=(10, 4.5))
    for k, (name, values) in enumerate(norms.items()):
        ax.bar(layers + (k - 1) * 0.27, values, width=0.27, label=name)
    ax.set_yscale("log")
    ax.set_xticks(layers, [f"{l}" if l < layers[-1] else f"{l}\\n(output)" for l in layers])
    ax.set_xlabel("layer l (1 = next to the input)")
    ax.set_ylabel("‖∂L/∂W⁽ˡ⁾‖ (log scale)")
    ax.set_title("Per-layer weight-gradient norms in 8-hidden-layer networks")
    ax.legend()
    plt.show()

    rows = ["| network | ‖∂L/∂W⁽¹⁾‖ | ‖∂L/∂W⁽⁹⁾‖ (output) | first / last | mean factor per layer |",
            "| --- | ---: | ---: | ---: | ---: |"]
    for name, values in norms.items():
        ratio = values[0] / values[-1]
        rows.append(f"| {name} | {values[0]:.1e} | {values[-1]:.1e} | {ratio:.1e} "
                    f"| {ratio ** (1 / (len(values) - 1)):.2f} |")
    display(Markdown("\\n".join(rows)))
    """),
    md(r"""
    With the small-variance sigmoid network each layer divides the gradient by a large
    factor, so the first layer's gradient is many orders of magnitude below the output
    layer's: a step size that trains the last layer leaves the first one where it started.
    Xavier initialization removes the part of the decay due to tiny weights but not the
    factor $\sigma' \le 1/4$. The ReLU network with He initialization keeps the gradient
    norms within a small factor across all layers.
    """),
]

if __name__ == "__main__":
    build("02_computation_graphs.ipynb", CELLS)
