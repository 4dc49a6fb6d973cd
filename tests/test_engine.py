"""Graph mechanics of reverse mode: how gradients flow, accumulate, are kept and freed."""

from __future__ import annotations

import gc
import subprocess
import sys
import weakref

import numpy as np
import pytest

import autograd_core as ag
from autograd_core.engine import grad, topological_order


def test_fan_out_sums_the_gradients_of_every_use() -> None:
    a = ag.Tensor(3.0, requires_grad=True)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad.item() == 4.0


def test_gradients_accumulate_across_backward_calls() -> None:
    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3 + 2, 3 + 4])


def test_retain_graph_allows_a_second_backward() -> None:
    x = ag.Tensor(2.0, requires_grad=True)
    y = x.exp() * x
    y.backward(retain_graph=True)
    first = x.grad.item()
    y.backward()
    assert x.grad.item() == pytest.approx(2 * first)


def test_second_backward_through_a_freed_graph_raises_and_names_retain_graph() -> None:
    x = ag.Tensor(2.0, requires_grad=True)
    y = (x * x).exp()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_backward_without_gradient_needs_a_one_element_output() -> None:
    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"one-element.*\(2,\)"):
        (x * 2).backward()


def test_backward_rejects_a_gradient_of_the_wrong_shape() -> None:
    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        (x * 2).backward(np.ones(3))


def test_backward_on_a_tensor_without_grad_raises() -> None:
    with pytest.raises(RuntimeError, match="does not require grad"):
        ag.Tensor(1.0).backward()


def test_no_grad_records_nothing_and_works_as_decorator() -> None:
    x = ag.Tensor(1.0, requires_grad=True)
    with ag.no_grad():
        y = x * 2
        with ag.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None

    @ag.no_grad()
    def double(t: ag.Tensor) -> ag.Tensor:
        return t * 2

    assert not double(x).requires_grad
    assert ag.is_grad_enabled()


def test_ops_on_tensors_that_do_not_require_grad_record_no_node() -> None:
    y = ag.Tensor([1.0]) * 2 + 1
    assert y.grad_fn is None and not y.requires_grad


def test_detach_cuts_the_graph_and_shares_data() -> None:
    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2).detach()
    assert d.is_leaf and not d.requires_grad
    y = (d * x).sum()
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 4.0])


def test_only_leaves_keep_grad_unless_retain_grad_is_called() -> None:
    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    k = x * 4
    k.retain_grad()
    (h * k).sum().backward()
    assert x.is_leaf and not h.is_leaf
    assert h.grad is None
    np.testing.assert_array_equal(k.grad.data, h.data)
    np.testing.assert_array_equal(x.grad.data, 2 * 12 * x.data)


def test_grad_is_a_tensor_with_the_dtype_and_shape_of_its_leaf() -> None:
    x = ag.Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    (x * 2.5 + 1.0).sigmoid().mean().backward()
    assert isinstance(x.grad, ag.Tensor)
    assert x.grad.dtype == np.float32 and x.grad.shape == (2, 3)


def test_float32_is_preserved_through_every_op_with_python_scalars() -> None:
    x = ag.Tensor(np.linspace(0.1, 1, 6, dtype=np.float32).reshape(2, 3), requires_grad=True)
    y = ((x * 2.0 - 1.0) / 3.0) ** 2.0
    y = y.exp().log().sqrt().tanh() + ag.maximum(x, 0.5) + ag.clip(x, 0.2, 0.8)
    y = ag.log_softmax(y, axis=1) + ag.softmax(y) + y.logsumexp(axis=0)
    z = (y @ x.T).var() + y.std(axis=0).sum() + y.max() + ag.where(x > 0.5, x, 0.0).sum()
    assert z.dtype == np.float32
    z.backward()
    assert x.grad.dtype == np.float32


def test_mixing_float32_with_float64_promotes_and_gradients_come_back_float32() -> None:
    x = ag.Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    y = x * np.array([1.0, 2.0])
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_leaf_gradients_never_alias_each_other_or_the_seed() -> None:
    a = ag.Tensor([1.0, 2.0], requires_grad=True)
    b = ag.Tensor([1.0, 2.0], requires_grad=True)
    seed = np.ones(2)
    (a + b).backward(seed)
    a.grad.data[0] = 100.0
    assert b.grad.data[0] == 1.0 and seed[0] == 1.0


def test_create_graph_records_the_backward_pass_for_second_derivatives() -> None:
    x = ag.Tensor(0.7, requires_grad=True)
    y = x.sin() * x
    (dy,) = grad(y, x, create_graph=True)
    assert dy.requires_grad
    (d2y,) = grad(dy, x)
    expected = 2 * np.cos(0.7) - 0.7 * np.sin(0.7)
    assert d2y.item() == pytest.approx(expected, rel=1e-12)


def test_backward_with_create_graph_leaves_a_differentiable_grad() -> None:
    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    (x**3).sum().backward(create_graph=True)
    g = x.grad
    x.grad = None
    g.sum().backward()
    np.testing.assert_allclose(x.grad.data, 6 * np.array([1.0, 2.0]))


def test_functional_grad_leaves_dot_grad_alone_and_reports_unused_inputs() -> None:
    x = ag.Tensor(2.0, requires_grad=True)
    unused = ag.Tensor(1.0, requires_grad=True)
    (g,) = grad(x * x, x)
    assert g.item() == 4.0 and x.grad is None
    with pytest.raises(RuntimeError, match="not used"):
        grad(x * x, [x, unused])
    assert grad(x * x, [x, unused], allow_unused=True)[1] is None


def test_topological_order_puts_each_node_before_its_inputs() -> None:
    x = ag.Tensor(1.0, requires_grad=True)
    a = x * 2
    b = a + x
    c = a * b
    order = topological_order(c.grad_fn)
    position = {node: i for i, node in enumerate(order)}
    for node in order:
        for parent in node.parents():
            assert position[node] < position[parent]


def test_graph_nodes_hold_no_reference_to_their_outputs() -> None:
    gc.disable()
    try:
        x = ag.Tensor(np.ones(3), requires_grad=True)
        y = (x * 2).exp()
        node = weakref.ref(y.grad_fn)
        probe = weakref.ref(y)
        del y
        assert probe() is None, "the output survived: something refers back to it"
        assert node() is None, "the graph survived its output: a reference cycle"
    finally:
        gc.enable()


def test_backward_frees_intermediate_tensors_but_keeps_the_structure() -> None:
    x = ag.Tensor(np.ones(3), requires_grad=True)
    h = x * 2
    probe = weakref.ref(h)
    y = h.exp().sum()
    del h
    y.backward()
    assert probe() is None
    assert [n.name() for n in topological_order(y.grad_fn)] == ["sum", "exp", "mul"]


def test_a_million_op_chain_runs_forward_backward_and_is_freed() -> None:
    script = """
import numpy as np, autograd_core as ag
x = ag.Tensor(np.ones(2), requires_grad=True)
y = x
for _ in range(1_000_000):
    y = y * 1.0000001
y.sum().backward()
assert abs(x.grad.data[0] - 1.0000001 ** 1_000_000) < 1e-9
z = x
for _ in range(1_000_000):
    z = z + 1.0
del z  # a never-differentiated deep graph is freed without recursion too
print("ok")
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"


def test_intermediate_tensors_die_with_their_last_reference_while_the_graph_lives() -> None:
    """A graph keeps nodes and arrays, never intermediate Tensor objects (as PyTorch): a
    long graph is one garbage-collected object per op."""
    import gc
    import weakref

    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    h = x * 3.0
    alive = weakref.ref(h)
    y = (h * h).sum()
    del h
    gc.collect()
    assert alive() is None
    y.backward()
    np.testing.assert_allclose(x.grad.data, [18.0, 36.0])  # d/dx (3x)^2 = 18x


def test_a_second_root_through_a_freed_shared_part_raises_the_retain_graph_error() -> None:
    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    shared = x * 2.0
    a, b = (shared * 3.0).sum(), (shared * 4.0).sum()
    a.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        b.backward()


@pytest.mark.parametrize("size", [3, 5000])  # small gradients are filled in, large broadcast
def test_stored_gradients_never_share_memory(size: int) -> None:
    """Identity rules (add) pass one array on to several inputs; every `.grad` still gets its
    own, so an optimizer updating one in place cannot change another."""
    a = ag.Tensor(np.ones(size), requires_grad=True)
    b = ag.Tensor(np.ones(size), requires_grad=True)
    h = a + b
    h.retain_grad()
    h.sum().backward()
    grads = [a.grad.data, b.grad.data, h.grad.data]
    for i in range(3):
        assert grads[i].flags.writeable
        for j in range(i + 1, 3):
            assert not np.shares_memory(grads[i], grads[j])
    a.grad.data += 1.0
    np.testing.assert_array_equal(b.grad.data, np.ones(size))


def test_using_a_result_whose_graph_was_freed_gives_the_retain_graph_error() -> None:
    """A new op on `y` after backward freed y's graph: the next backward says why it stops,
    instead of failing inside a rule."""
    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    w = ag.Tensor([3.0, 4.0], requires_grad=True)
    y = x * 2.0
    y.sum().backward()
    z = (w * y).sum()  # w's gradient needs y's value
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        z.backward()


def test_a_fused_rule_gets_the_residual_and_the_other_inputs_rules_get_the_output() -> None:
    """out = a * b, kept as its output; a fused rule for input 0 reads the forward's residual
    (here a marker), while input 1's ordinary rule must still read the output itself."""
    from autograd_core.engine import Primitive

    def forward(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, str]:
        return a * b, "residual"

    def fused(g: np.ndarray, residual: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        assert residual == "residual"
        return g * b

    times = Primitive(
        "times_for_test",
        forward,
        (lambda g, out, a, b: g * b, lambda g, out, a, b: g * out / b),
        save_output=True,
        fused_vjp=fused,
    )
    a = ag.Tensor([2.0, 3.0], requires_grad=True)
    b = ag.Tensor([5.0, 7.0], requires_grad=True)
    times(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.data, [5.0, 7.0])
    np.testing.assert_array_equal(b.grad.data, [2.0, 3.0])  # out / b = a, read from the output
