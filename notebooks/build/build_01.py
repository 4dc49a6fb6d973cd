"""Generate notebooks/01_forward_vs_reverse_mode.ipynb (executed, outputs stored).

Run from the repository root: python notebooks/build/build_01.py
"""

from __future__ import annotations

from _common import build, code, md

CELLS = [
    md(r"""
    # Forward mode vs reverse mode

    Automatic differentiation (AD) evaluates a program as a chain of primitive operations with
    known local derivatives and joins them with the chain rule. It can do so in two orders:

    - **forward mode** carries a *tangent* $\dot v_i = \partial v_i / \partial x$ along with
      every value, from the inputs to the outputs: one pass per input direction;
    - **reverse mode** records the graph, then carries an *adjoint*
      $\bar v_i = \partial y / \partial v_i$ from the output back to the inputs: one pass per
      output. Backpropagation is reverse mode.

    This notebook follows the worked example of Baydin et al. (JMLR 2018), then measures when
    each mode wins, how AD compares with numerical and symbolic differentiation, and two ways
    to get a Hessian. Every number below is computed by `autograd_core` in this notebook.
    """),
    code("""
    %matplotlib inline
    import time

    import matplotlib.pyplot as plt
    import numpy as np
    from IPython.display import Markdown, display

    import autograd_core as ag
    from autograd_core import engine

    np.set_printoptions(precision=4, suppress=True)
    EPS = np.finfo(np.float64).eps
    """),
    md(r"""
    ## 1. The evaluation trace of $f(x_1, x_2) = \ln x_1 + x_1 x_2 - \sin x_2$ at $(2, 5)$

    The program is a sequence of primitives, each intermediate named $v_i$ (inputs get
    $v_{-1}, v_0$):

    $v_{-1} = x_1,\; v_0 = x_2,\; v_1 = \ln v_{-1},\; v_2 = v_{-1} v_0,\; v_3 = \sin v_0,\;
    v_4 = v_1 + v_2,\; v_5 = v_4 - v_3,\; y = v_5.$

    - Forward mode seeds $(\dot x_1, \dot x_2) = (1, 0)$ and applies each primitive's rule,
      e.g. $\dot v_2 = \dot v_{-1} v_0 + v_{-1} \dot v_0$, so every
      $\dot v_i = \partial v_i/\partial x_1$.
    - Reverse mode seeds $\bar v_5 = \bar y = 1$ and sends adjoints back along every edge,
      $\bar v_j = \sum_{i:\, j \to i} \bar v_i \, \partial v_i / \partial v_j$, e.g.
      $\bar v_0 = \bar v_2 v_{-1} + \bar v_3 \cos v_0$.

    Below, the tangent column comes from **one `jvp` pass** over a function returning every
    intermediate, and the adjoint column from **one `backward()`** with `retain_grad()` on the
    intermediates.
    """),
    code("""
    def trace(x1, x2):
        \"\"\"The survey's evaluation trace: every intermediate v_i, in order.\"\"\"
        v1 = ag.log(x1)
        v2 = x1 * x2
        v3 = ag.sin(x2)
        v4 = v1 + v2
        v5 = v4 - v3
        return x1, x2, v1, v2, v3, v4, v5


    names = ["v₋₁ = x₁", "v₀ = x₂", "v₁ = ln v₋₁", "v₂ = v₋₁·v₀", "v₃ = sin v₀",
             "v₄ = v₁ + v₂", "v₅ = v₄ − v₃ = y"]

    # Forward mode: one pass with (ẋ₁, ẋ₂) = (1, 0) gives every tangent v̇ᵢ = ∂vᵢ/∂x₁.
    primals, tangents = ag.jvp(trace, (2.0, 5.0), (1.0, 0.0))

    # Reverse mode: one backward pass from y = v₅ gives every adjoint v̄ᵢ = ∂y/∂vᵢ.
    x1 = ag.Tensor(2.0, requires_grad=True)
    x2 = ag.Tensor(5.0, requires_grad=True)
    vs = trace(x1, x2)
    for v in vs[2:]:
        v.retain_grad()  # intermediates keep their adjoint too (leaves always do)
    vs[-1].backward()
    adjoints = [v.grad.item() for v in vs]

    rows = ["| intermediate | primal vᵢ | tangent v̇ᵢ (ẋ₁ = 1, ẋ₂ = 0) | adjoint v̄ᵢ = ∂y/∂vᵢ |",
            "| --- | ---: | ---: | ---: |"]
    for name, p, t, a in zip(names, primals, tangents, adjoints):
        rows.append(f"| {name} | {p.item():.4f} | {t.item():.4f} | {a:.4f} |")
    display(Markdown("\\n".join(rows)))
    """),
    code("""
    y = primals[-1].item()
    dy_dx1_forward = tangents[-1].item()
    grad_reverse = (adjoints[0], adjoints[1])
    print(f"f(2, 5)                 = {y!r}")
    print(f"∂f/∂x₁ by forward mode  = {dy_dx1_forward!r}   (one jvp pass, direction (1, 0))")
    print(f"∇f by reverse mode      = {grad_reverse}   (one backward pass)")

    # The survey's values (Baydin et al. 2018), as the course quotes them:
    assert np.isclose(y, 11.652071455223084, rtol=1e-15, atol=0)
    assert np.allclose(grad_reverse, (5.5, 1.7163378145367738), rtol=1e-15, atol=0)
    assert dy_dx1_forward == grad_reverse[0]
    """),
    md(r"""
    Forward mode produced $\partial y / \partial x_1$ only: the tangent column is the
    derivative along one input direction. For $\partial y / \partial x_2$ it needs a second
    pass with $(\dot x_1, \dot x_2) = (0, 1)$. Reverse mode got both partial derivatives from
    its single backward pass. The same holds for any $f: \mathbb{R}^n \to \mathbb{R}$:
    forward mode needs $n$ passes for the gradient and reverse mode needs one.
    """),
    code("""
    f = lambda x1, x2: ag.log(x1) + x1 * x2 - ag.sin(x2)
    _, dy_dx2_forward = ag.jvp(f, (2.0, 5.0), (0.0, 1.0))
    print(f"second jvp pass, direction (0, 1): ∂f/∂x₂ = {dy_dx2_forward.item()!r}")
    assert dy_dx2_forward.item() == grad_reverse[1]
    """),
    md(r"""
    ## 2. Jacobians of $f: \mathbb{R}^n \to \mathbb{R}^m$: `jacfwd` vs `jacrev`

    The Jacobian $J = \partial f / \partial x$ is an $m \times n$ matrix.

    - A forward pass with tangent $\dot x = e_j$ gives the column $J e_j$, so `jacfwd` makes
      **$n$ passes** (one per input).
    - A backward pass with adjoint $\bar y = e_i$ gives the row $e_i^\top J$, so `jacrev`
      makes **one recorded forward pass and $m$ backward passes** (one per output).

    To count passes rather than take them on trust, we put an identity *custom primitive*
    at the input whose forward-mode and reverse-mode rules count how often they run. The test
    function is a small two-layer map $f(x) = W_2 \tanh(W_1 x)$ with 16 hidden units.
    """),
    code("""
    passes = {"jvp": 0, "vjp": 0}


    def count_jvp(t, out, x):
        passes["jvp"] += 1
        return t


    def count_vjp(g, out, x):
        passes["vjp"] += 1
        return g


    @ag.primitive(vjp=count_vjp, jvp=count_jvp)
    def probe(x):
        \"\"\"identity that counts the passes going through it\"\"\"
        return x.copy()


    rng = np.random.default_rng(0)


    def make_f(n, m, hidden=16):
        W1 = rng.standard_normal((hidden, n)) / np.sqrt(n)
        W2 = rng.standard_normal((m, hidden)) / np.sqrt(hidden)
        return lambda x: W2 @ ag.tanh(W1 @ probe(x))


    n, m = 8, 3
    f_nm, x = make_f(n, m), rng.standard_normal(n)
    for name, jac in [("jacfwd", ag.jacfwd), ("jacrev", ag.jacrev)]:
        passes.update(jvp=0, vjp=0)
        J = jac(f_nm)(x)
        print(f"{name}: Jacobian shape {J.shape}, {passes['jvp']} forward-mode passes, "
              f"{passes['vjp']} backward passes")
    print("same Jacobian:", np.allclose(ag.jacfwd(f_nm)(x).numpy(), ag.jacrev(f_nm)(x).numpy()))
    """),
    code("""
    def best_time(fn, repeat=3):
        \"\"\"The fastest of `repeat` runs, in seconds.\"\"\"
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return min(times)


    sizes = [1, 2, 4, 8, 16, 32, 64, 128]
    t_fwd = np.zeros((len(sizes), len(sizes)))  # [row: m, column: n]
    t_rev = np.zeros_like(t_fwd)
    for i, m in enumerate(sizes):
        for j, n in enumerate(sizes):
            f_nm, x = make_f(n, m), rng.standard_normal(n)
            t_fwd[i, j] = best_time(lambda: ag.jacfwd(f_nm)(x))
            t_rev[i, j] = best_time(lambda: ag.jacrev(f_nm)(x))

    ratio = np.log2(t_fwd / t_rev)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.6))
    lim = np.abs(ratio).max()
    im = ax1.imshow(ratio, origin="lower", cmap="RdBu_r", vmin=-lim, vmax=lim)
    ax1.plot([0, len(sizes) - 1], [0, len(sizes) - 1], "k--", label="n = m")
    ax1.contour(ratio, levels=[0], colors="k", linewidths=2)
    ax1.plot([], [], "k-", lw=2, label="equal time")
    ax1.set_xticks(range(len(sizes)), sizes)
    ax1.set_yticks(range(len(sizes)), sizes)
    ax1.set_xlabel("n (inputs)")
    ax1.set_ylabel("m (outputs)")
    ax1.set_title("log₂(time jacfwd / time jacrev)\\nblue: forward mode wins, red: reverse wins")
    fig.colorbar(im, ax=ax1, label="log₂ time ratio")
    ax1.legend(loc="upper left", fontsize=8)

    row = sizes.index(8)
    ax2.loglog(sizes, t_fwd[row] * 1e3, "o-", label="jacfwd (n passes)")
    ax2.loglog(sizes, t_rev[row] * 1e3, "s-", label="jacrev (1 + m passes)")
    ax2.axvline(8, color="gray", ls=":", label="n = m = 8")
    ax2.set_xlabel("n (inputs)")
    ax2.set_ylabel("time (ms)")
    ax2.set_title("Jacobian of f: ℝⁿ → ℝ⁸")
    ax2.legend()
    fig.tight_layout()
    plt.show()
    """),
    code("""
    # Where does reverse mode start to win, for each number of outputs m?
    rows = ["| m (outputs) | smallest n where jacrev is faster |", "| ---: | ---: |"]
    for i, m in enumerate(sizes):
        wins = [n for j, n in enumerate(sizes) if t_rev[i, j] < t_fwd[i, j]]
        rows.append(f"| {m} | {wins[0] if wins else '> ' + str(sizes[-1])} |")
    display(Markdown("\\n".join(rows)))

    # Cost of one pass of each kind, from the largest Jacobians timed.
    per_jvp = t_fwd[:, -1] / sizes[-1]  # n = 128 passes
    per_vjp = t_rev[-1, :] / sizes[-1]  # m = 128 backward passes (plus one recorded forward)
    print(f"one forward-mode pass ≈ {np.median(per_jvp) * 1e6:.0f} µs, "
          f"one backward pass ≈ {np.median(per_vjp) * 1e6:.0f} µs "
          f"(ratio {np.median(per_vjp) / np.median(per_jvp):.1f})")
    """),
    md(r"""
    **Why.** `jacfwd` costs $n$ passes and `jacrev` costs $m$ passes (plus recording the
    graph once), so forward mode wins when inputs are few ($n < m$, the blue corner) and
    reverse mode when outputs are few ($m < n$, the red corner). The equal-time line runs
    along the diagonal $n = m$, shifted by the constant ratio between the price of one
    backward pass and one forward-mode pass printed above. A neural network's loss has
    $m = 1$ and $n$ = millions of parameters: that is why training uses reverse mode.
    """),
    md(r"""
    ## 3. Numerical differentiation: the step-size trade-off

    Finite differences approximate the derivative from function values only:

    - forward difference $\dfrac{f(x+h) - f(x)}{h}$, truncation error $O(h)$;
    - central difference $\dfrac{f(x+h) - f(x-h)}{2h}$, truncation error $O(h^2)$.

    Both also suffer round-off: $f$ is known only to about $\varepsilon |f|$ (machine
    epsilon $\varepsilon \approx 2.2 \times 10^{-16}$), and dividing by $h$ amplifies it to
    $O(\varepsilon / h)$. Balancing the two puts the best step near $h \approx \sqrt{\varepsilon}$
    for forward and $h \approx \sqrt[3]{\varepsilon}$ for central differences. Below:
    $\partial f / \partial x_2$ of the survey function at $(2, 5)$, whose exact value is
    $x_1 - \cos x_2 = 2 - \cos 5$.
    """),
    code("""
    def f_np(x2, x1=2.0):
        return np.log(x1) + x1 * x2 - np.sin(x2)


    x0, exact = 5.0, 2.0 - np.cos(5.0)
    hs = np.logspace(-16, 0, 161)
    err_forward = np.abs((f_np(x0 + hs) - f_np(x0)) / hs - exact)
    err_central = np.abs((f_np(x0 + hs) - f_np(x0 - hs)) / (2 * hs) - exact)
    ad = ag.grad(f, argnums=1)(2.0, 5.0).item()
    err_ad = abs(ad - exact)

    fig, ax = plt.subplots(figsize=(8, 5))
    ax.loglog(hs, err_forward, label="forward difference, O(h)")
    ax.loglog(hs, err_central, label="central difference, O(h²)")
    ax.axvline(np.sqrt(EPS), color="C0", ls=":", label="h = √ε (best for forward)")
    ax.axvline(np.cbrt(EPS), color="C1", ls=":", label="h = ∛ε (best for central)")
    shown = max(err_ad, EPS)
    ax.axhline(shown, color="C2", lw=2,
               label=f"automatic differentiation: error {err_ad:.1g}"
                     + (" (drawn at ε)" if err_ad < EPS else ""))
    ax.set_xlabel("step size h")
    ax.set_ylabel("|approximation − exact derivative|")
    ax.set_title("Error of ∂f/∂x₂ at (2, 5) against the step size")
    ax.legend(loc="upper left", fontsize=9)
    plt.show()

    for label, err in [("forward", err_forward), ("central", err_central)]:
        k = np.nanargmin(err)
        print(f"{label:8s} difference: best h = {hs[k]:.1e}, smallest error = {err[k]:.1e}")
    print(f"√ε = {np.sqrt(EPS):.1e}, ∛ε = {np.cbrt(EPS):.1e}")
    print(f"automatic differentiation: {ad!r} vs exact {float(exact)!r}, error {err_ad:.1e}")
    print(f"library's central difference (default h): "
          f"{ag.numerical_grad(f, [2.0, 5.0])[1].item()!r}")
    """),
    md(r"""
    Left of the best step, round-off takes over (slope $-1$: error $\propto \varepsilon/h$);
    right of it, truncation (slope $+1$ for forward, $+2$ for central differences). No step
    size gets below about $\sqrt{\varepsilon}$ or $\varepsilon^{2/3}$ relative error.
    Automatic differentiation has no step: it applies the exact local derivatives, so its
    only error is the ordinary round-off of evaluating them.
    """),
    md(r"""
    ## 4. Symbolic vs numerical vs automatic differentiation

    **Symbolic differentiation** manipulates expressions with the rules of calculus. Its
    answer is exact, but the derivative expression can be far larger than the function:
    *expression swell*. The survey's example is the logistic map
    $l_{k+1} = 4 l_k (1 - l_k)$, $l_1 = x$. Here is a ten-line symbolic differentiator on
    expression trees, applying the sum and product rules literally, as a symbolic
    system does before simplification:
    """),
    code("""
    # An expression is "x", a number, or a tuple (op, left, right) with op in "+", "-", "*".
    def d(e):
        \"\"\"d e / dx by the sum and product rules, without simplification.\"\"\"
        if e == "x":
            return 1
        if not isinstance(e, tuple):
            return 0
        op, a, b = e
        if op == "*":
            return ("+", ("*", d(a), b), ("*", a, d(b)))
        return (op, d(a), d(b))


    def size(e):
        return 1 + size(e[1]) + size(e[2]) if isinstance(e, tuple) else 1


    def show(e):
        return f"({show(e[1])} {e[0]} {show(e[2])})" if isinstance(e, tuple) else str(e)


    l2 = ("*", ("*", 4, "x"), ("-", 1, "x"))
    print("l₂       =", show(l2))
    print("dl₂/dx   =", show(d(l2)))
    """),
    code("""
    def poly_mul(p, q):  # integer coefficients, lowest degree first
        r = [0] * (len(p) + len(q) - 1)
        for i, a in enumerate(p):
            for j, b in enumerate(q):
                r[i + j] += a * b
        return r


    def ad_ops(k):
        \"\"\"Ops the library records for l_k; backward replays one step per op.\"\"\"
        x = ag.Tensor(0.3, requires_grad=True)
        l = x
        for _ in range(k - 1):
            l = 4 * l * (1 - l)
        return len(engine.topological_order(l._node)) if k > 1 else 0


    rows = ["| k | tree size of lₖ | tree size of dlₖ/dx (symbolic) | terms of dlₖ/dx expanded "
            "| AD: ops recorded for lₖ |", "| ---: | ---: | ---: | ---: | ---: |"]
    expr, poly = "x", [0, 1]
    for k in range(1, 7):
        deriv = [i * c for i, c in enumerate(poly)][1:]
        swell = size(d(expr))  # the last one (k = 6) is quoted in the summary below
        rows.append(f"| {k} | {size(expr)} | {swell} | {sum(c != 0 for c in deriv)} "
                    f"| {ad_ops(k)} |")
        expr = ("*", ("*", 4, expr), ("-", 1, expr))
        poly = poly_mul([4 * c for c in poly], [1 - poly[0]] + [-c for c in poly[1:]])
    display(Markdown("\\n".join(rows)))
    """),
    md(r"""
    The tree of $l_k$ doubles each step because $l_k$ appears twice in $l_{k+1}$; its
    derivative grows faster still, and expanding into a polynomial does not help (the degree
    doubles each step). AD never builds an expression: it records each operation once, so the
    graph grows by a constant number of ops per step, and the backward pass visits each op
    once. Numerical differentiation is the third option. For a gradient of
    $F: \mathbb{R}^n \to \mathbb{R}$ it needs two evaluations per input, and it is only
    approximate. Measured on $F(x) = \sum_i x_i \sin x_i$ with $n = 50$:
    """),
    code("""
    calls = {"n": 0}


    def F(x):
        calls["n"] += 1
        x = probe(x)  # counts the backward passes
        return (x * ag.sin(x)).sum()


    x = np.random.default_rng(1).uniform(-2, 2, 50)
    exact_grad = np.sin(x) + x * np.cos(x)

    calls["n"] = 0
    numerical = ag.numerical_grad(F, x)
    numerical_calls = calls["n"]

    calls["n"] = 0
    passes.update(jvp=0, vjp=0)
    automatic = ag.grad(F)(x).numpy()
    ad_calls, ad_passes = calls["n"], passes["vjp"]

    table = [
        "| method | result | cost of ∇F for n = 50 | max error vs closed form |",
        "| --- | --- | --- | ---: |",
        f"| symbolic | exact expression | expression swell: dl₆/dx has {swell} tree "
        "nodes (above) | none: exact formula |",
        f"| numerical (central) | approximate | {numerical_calls} evaluations of F "
        f"(2n = {2 * len(x)} for the differences) | {np.abs(numerical - exact_grad).max():.1e} |",
        f"| automatic (reverse) | exact to rounding | {ad_calls} evaluation of F "
        f"+ {ad_passes} backward pass | {np.abs(automatic - exact_grad).max():.1e} |",
    ]
    display(Markdown("\\n".join(table)))
    """),
    md(r"""
    ## 5. The Hessian: forward-over-reverse vs reverse-over-reverse

    The Hessian $H = \nabla^2 F$ is the Jacobian of the gradient, and the gradient is itself
    a differentiable program, so AD can be nested:

    - **forward-over-reverse** `jacfwd(jacrev(F))` (what `ag.hessian` does, as in JAX):
      $n$ forward-mode passes, each through one reverse sweep; one such pass is a
      Hessian-vector product $Hv$ = `jvp(grad(F), (x,), (v,))`;
    - **reverse-over-reverse** `jacrev(jacrev(F))`: records the backward pass
      (`create_graph=True`), then makes $n$ backward passes through that recorded graph.

    Both must give the same matrix. The test function is the Rosenbrock function in
    $n = 20$ dimensions.
    """),
    code("""
    def rosenbrock(x):
        return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


    x = np.random.default_rng(2).uniform(-1, 1, 20)
    hessians = {
        "jacfwd(jacrev(F))  forward-over-reverse": ag.jacfwd(ag.jacrev(rosenbrock)),
        "jacrev(jacrev(F))  reverse-over-reverse": ag.jacrev(ag.jacrev(rosenbrock)),
        "ag.hessian(F)": ag.hessian(rosenbrock),
    }
    results = {name: h(x).numpy() for name, h in hessians.items()}
    H = results["ag.hessian(F)"]
    reference = ag.numerical_jacobian(ag.grad(rosenbrock), x)  # central differences of ∇F

    timings = {}
    for name, h in hessians.items():
        timings[name] = best_time(lambda: h(x), repeat=5)
        print(f"{name:42s} {timings[name] * 1e3:7.1f} ms   max |H − ag.hessian(F)| = "
              f"{np.abs(results[name] - H).max():.1e}")
    fwd_rev, rev_rev = list(timings.values())[:2]
    print(f"reverse-over-reverse takes {rev_rev / fwd_rev:.2f}× the time of forward-over-reverse")
    print(f"Hessian shape {H.shape}, symmetric: {np.allclose(H, H.T)}, "
          f"max |H − central differences of ∇F| = {np.abs(H - reference).max():.1e}")

    v = np.random.default_rng(3).standard_normal(20)
    _, hvp = ag.jvp(ag.grad(rosenbrock), (x,), (v,))
    t = best_time(lambda: ag.jvp(ag.grad(rosenbrock), (x,), (v,)))
    print(f"Hessian-vector product by one jvp of grad: {t * 1e3:.1f} ms, "
          f"max |Hv − H @ v| = {np.abs(hvp.numpy() - H @ v).max():.1e}")
    """),
    md(r"""
    The two nestings give the same matrix. Both make $n$ passes over a computation of the size
    of the first-order one, so which is faster comes down to constants, measured above for
    this library at this size: the price of carrying tangents through a forward and a
    backward sweep, against that of recording the backward pass once and sweeping it back
    $n$ times. Reverse-over-reverse keeps the whole recorded backward graph in memory, which
    is why JAX (and `ag.hessian`) use forward-over-reverse by default. When only $Hv$ is
    needed (Newton-CG, curvature along a direction), one forward-over-reverse pass gives it
    without forming $H$.
    """),
]

if __name__ == "__main__":
    build("01_forward_vs_reverse_mode.ipynb", CELLS)
