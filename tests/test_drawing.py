"""draw_graph and backward_steps: structure of the drawing on known graphs, rendering, and
the step table agreeing with backward()."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_core as ag
from autograd_core.drawing import (
    GraphvizNotFoundError,
    backward_steps,
    draw_graph,
    gradient_color,
    module_label,
)
from autograd_core.engine import topological_order

HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="the Graphviz `dot` program is not installed")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

NODE_LINE = re.compile(r"^\t+(\w+) \[label=(<.*>|\"[^\"]*\") (.*)\]$")
EDGE_LINE = re.compile(r"^\t+(\w+) -> (\w+)")


# --------------------------------------------------------------------------------------------
# Reading a drawing back.
# --------------------------------------------------------------------------------------------


class Parsed:
    """Nodes (id -> (label, attributes)) and edges of a drawing, without its legend."""

    def __init__(self, graph: Any) -> None:
        self.source: str = graph.source
        self.nodes: dict[str, tuple[str, str]] = {}
        self.edges: list[tuple[str, str]] = []
        for line in self.source.splitlines():
            if m := NODE_LINE.match(line):
                if not m.group(1).startswith("legend"):
                    self.nodes[m.group(1)] = (m.group(2), m.group(3))
            elif (m := EDGE_LINE.match(line)) and not m.group(1).startswith("legend"):
                self.edges.append((m.group(1), m.group(2)))

    def ids(self, prefix: str) -> list[str]:
        """t: tensor boxes, o: ops, c: constants, m: collapsed modules."""
        return [i for i in self.nodes if re.fullmatch(prefix + r"\d+(_\d+)?", i)]

    def label(self, ident: str) -> str:
        return self.nodes[ident][0]

    def op_names(self) -> list[str]:
        return [re.match(r"<([\w]+)", self.label(i)).group(1) for i in self.ids("o")]  # type: ignore[union-attr]

    def find(self, text: str, prefix: str = "") -> str:
        """The one node whose label contains `text`."""
        hits = [i for i, (label, _) in self.nodes.items() if text in label and i.startswith(prefix)]
        assert len(hits) == 1, (text, hits)
        return hits[0]

    def roots(self) -> list[str]:
        return [i for i, (_, attrs) in self.nodes.items() if "peripheries=2" in attrs]

    def op(self, name: str) -> str:
        hits = [i for i in self.ids("o") if re.match(rf"<{name}\b", self.label(i))]
        assert len(hits) == 1, (name, hits)
        return hits[0]

    def fill(self, ident: str) -> str:
        return re.search(r'fillcolor="(#[0-9a-f]{6})"', self.nodes[ident][1]).group(1)  # type: ignore[union-attr]


def parsed(root: Any, **kwargs: Any) -> Parsed:
    return Parsed(draw_graph(root, **kwargs))


class FakeModule:
    """Stands in for an nn module: a class name, extra_repr, named_parameters/modules."""

    def __init__(self, extra: str = "", **params: ag.Tensor) -> None:
        self.extra = extra
        self.params = params
        self.children: dict[str, FakeModule] = {}

    def extra_repr(self) -> str:
        return self.extra

    def named_modules(self, prefix: str = "") -> list[tuple[str, Any]]:
        out: list[tuple[str, Any]] = [(prefix, self)]
        for name, child in self.children.items():
            out += child.named_modules(f"{prefix}.{name}" if prefix else name)
        return out

    def named_parameters(self) -> list[tuple[str, ag.Tensor]]:
        out = []
        for prefix, module in self.named_modules():
            out += [(f"{prefix}.{n}" if prefix else n, p) for n, p in module.params.items()]
        return out


class Linear(FakeModule):
    def __init__(self, n_in: int, n_out: int, rng: np.random.Generator) -> None:
        super().__init__(
            f"in_features={n_in}, out_features={n_out}, bias=True",
            weight=ag.Tensor(rng.standard_normal((n_out, n_in)), requires_grad=True),
            bias=ag.Tensor(np.zeros(n_out), requires_grad=True),
        )

    def __call__(self, x: ag.Tensor) -> ag.Tensor:
        with ag.module_scope(self):
            return x @ self.params["weight"].T + self.params["bias"]


class Tanh(FakeModule):
    def __call__(self, x: ag.Tensor) -> ag.Tensor:
        with ag.module_scope(self):
            return ag.tanh(x)


class Sequential(FakeModule):
    def __init__(self, *layers: FakeModule) -> None:
        super().__init__()
        self.children = {f"layers.{i}": m for i, m in enumerate(layers)}

    def __call__(self, x: ag.Tensor) -> ag.Tensor:
        with ag.module_scope(self):
            for layer in self.children.values():
                x = layer(x)  # type: ignore[operator]
            return x


def two_layer_net(width: int = 8, seed: int = 0) -> tuple[Sequential, ag.Tensor, ag.Tensor]:
    rng = np.random.default_rng(seed)
    model = Sequential(Linear(3, width, rng), Tanh(), Linear(width, 1, rng))
    x = ag.Tensor(rng.standard_normal((5, 3)), name="x")
    loss = (model(x) ** 2).mean()
    return model, x, loss


# --------------------------------------------------------------------------------------------
# Structure on known graphs.
# --------------------------------------------------------------------------------------------


def test_each_tensor_is_one_box_and_each_op_one_node_joined_by_input_and_output_edges() -> None:
    a = ag.Tensor([1.0, 2.0], requires_grad=True, name="a")
    b = ag.Tensor([3.0, 4.0], requires_grad=True, name="b")
    c = ag.Tensor([5.0, 6.0], requires_grad=True, name="c")
    y = a * b + c
    g = parsed(y)
    assert len(g.ids("t")) == 5  # a, b, c, a*b, y
    assert sorted(g.op_names()) == ["add", "mul"]
    a_, b_, c_ = g.find(">a<"), g.find(">b<"), g.find(">c<")
    mul, add = g.op("mul"), g.op("add")
    product = next(t for s, t in g.edges if s == mul)
    out = next(t for s, t in g.edges if s == add)
    assert Counter(g.edges) == Counter(
        [(a_, mul), (b_, mul), (mul, product), (product, add), (c_, add), (add, out)]
    )


def test_the_outside_check_matmul_and_slice_shapes_edges_and_png() -> None:
    a = ag.Tensor(np.arange(15.0).reshape(5, 3), requires_grad=True)
    b = ag.Tensor(np.ones((3, 4)), requires_grad=True)
    product = a @ b
    part = product[1:3]
    out = (part * 2.0).sum()
    graph = draw_graph(out)
    g = Parsed(graph)
    for shape in ["(5, 3)", "(3, 4)", "(5, 4)", "(2, 4)", "()"]:
        assert shape in g.source
    a_, b_ = g.find("(5, 3)", "t"), g.find("(3, 4)", "t")
    p_ = g.find("(5, 4)", "t")
    matmul, getitem = g.op("matmul"), g.op("getitem")
    s_ = next(head for tail, head in g.edges if tail == getitem)
    assert "(2, 4) float64" in g.label(s_)
    assert {(a_, matmul), (b_, matmul), (matmul, p_), (p_, getitem), (getitem, s_)} <= set(g.edges)
    assert "[1:3]" in g.label(getitem)
    if HAS_DOT:
        assert graph.pipe(format="png").startswith(PNG_SIGNATURE)


_BINARY = {"add": ag.add, "mul": ag.mul, "sub": ag.sub, "maximum": ag.maximum}
_UNARY = {"sin": ag.sin, "tanh": ag.tanh, "neg": ag.neg}


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([*_BINARY, *_UNARY, "scale"]),
            st.integers(0, 1000),
            st.integers(0, 1000),
        ),
        min_size=1,
        max_size=12,
    ),
    st.booleans(),
)
def test_every_op_of_a_random_graph_is_drawn_once_with_one_edge_per_operand_and_result(
    program: list[tuple[str, int, int]], after_backward: bool
) -> None:
    values = [
        ag.Tensor([0.5, -1.0, 2.0], requires_grad=True, name="a"),
        ag.Tensor([1.5, 0.25, -0.5], requires_grad=True, name="b"),
        ag.Tensor([3.0, 4.0, 5.0], name="data"),
    ]
    for op, i, j in program:
        x, y = values[i % len(values)], values[j % len(values)]
        if op in _BINARY:
            values.append(_BINARY[op](x, y))
        elif op in _UNARY:
            values.append(_UNARY[op](x))
        else:
            values.append(x * 0.5)
    root = values[-1]
    if root.grad_fn is None:
        return  # only constants were combined: nothing recorded
    nodes = topological_order(root.grad_fn)
    leaves = {id(x) for n in nodes for x in n.inputs if isinstance(x, ag.Tensor) and x.is_leaf}
    if after_backward:
        root.sum().backward()
    g = parsed(root, max_nodes=None, max_chain=None, legend=False)
    assert len(g.ids("o")) == len(nodes)
    assert len(g.ids("t")) == len(nodes) + len(leaves)
    assert len(g.edges) == sum(len(n.inputs) + 1 for n in nodes)
    assert "shape unknown" not in g.source
    short = parsed(root, max_nodes=None, max_chain=2, legend=False)  # chains of 3+ elided
    chains = [i for i in short.nodes if re.fullmatch(r"e\d+", i)]
    in_chains = [int(re.search(r"… (\d+) ops?", short.label(i)).group(1)) for i in chains]  # type: ignore[union-attr]
    assert len(short.ids("o")) + sum(in_chains) == len(nodes)  # every op drawn or counted
    for chain in chains:  # one tensor in, one out
        assert [t for t, h in short.edges if h == chain] and [
            h for t, h in short.edges if t == chain
        ]


def test_labels_show_shape_and_dtype() -> None:
    x = ag.Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    y = ag.cast(x, np.float64).sum(axis=1)
    g = parsed(y)
    assert "(2, 3) float32" in g.source
    assert "(2,) float64" in g.source
    assert "axis=1" in g.label(g.op("sum"))


def test_op_nodes_are_named_as_in_the_registry() -> None:
    x = ag.Tensor(np.linspace(0.1, 1.0, 6).reshape(2, 3), requires_grad=True)
    y = (ag.exp(x) / ag.sqrt(x)).softmax(axis=0).reshape(3, 2).T.max()
    g = parsed(y)
    names = g.op_names()
    assert set(names) <= set(ag.PRIMITIVES)
    assert len(names) == len(topological_order(y.grad_fn))


def test_python_constants_are_small_nodes_and_array_constants_are_input_boxes() -> None:
    x = ag.Tensor([1.0, 2.0], requires_grad=True, name="x")
    y = (x * 3.5 - np.array([1.0, 1.0])).sum()
    g = parsed(y)
    const = g.ids("c")
    assert len(const) == 1 and "3.5" in g.label(const[0])
    assert "plaintext" in g.nodes[const[0]][1]
    dashed = [i for i in g.ids("t") if "dashed" in g.nodes[i][1]]
    assert len(dashed) == 1  # the numpy array became a constant tensor


def test_kinds_are_told_apart_and_explained_in_a_legend() -> None:
    w = ag.Tensor([1.0, 2.0], requires_grad=True, name="w")
    data = ag.Tensor([3.0, 4.0], name="data")
    y = (w * data).sum()
    graph = draw_graph(y)
    g = Parsed(graph)
    styles = {name: g.nodes[g.find(name)][1] for name in [">w<", ">data<", "() float64"]}
    assert len(set(styles.values())) == 3
    assert "peripheries=2" in styles["() float64"]  # the root
    for text in ["parameter", "input / constant", "intermediate", "output (the root)", "op"]:
        assert text in graph.source.split("cluster_legend")[1]
    assert "cluster_legend" not in draw_graph(y, legend=False).source
    assert "rankdir=TB" in graph.source  # the default: graphs are deeper than wide
    left_right = draw_graph(y, rankdir="LR").source
    assert "rankdir=LR" in left_right and "legend_param -> legend_input [style=invis]" in left_right


def test_a_leaf_root_is_drawn_alone() -> None:
    x = ag.Tensor([[1.0]], requires_grad=True, name="x")
    g = parsed(x)
    assert g.ids("t") == ["t0"] and not g.ids("o") and not g.edges


def test_several_roots_share_one_drawing() -> None:
    x = ag.Tensor(2.0, requires_grad=True)
    y = x * x
    z = ag.exp(y)
    g = parsed([y, z])
    assert len(g.ids("o")) == 2
    assert len(g.roots()) == 2


def test_values_small_arrays_in_full_large_ones_summarized() -> None:
    small = ag.Tensor([1.5, -2.25], requires_grad=True, name="small")
    large = ag.Tensor(np.arange(100.0), requires_grad=True, name="large")
    y = small.sum() + large.mean()
    g = parsed(y, show_values=True)
    assert "[ 1.5 , -2.25]" in g.label(g.find(">small<"))
    label = g.label(g.find(">large<"))
    assert "mean 49.5" in label and "min 0" in label and "max 99" in label


def test_parameter_names_come_from_the_model() -> None:
    model, _, loss = two_layer_net()
    g = parsed(loss, model=model)
    for name in ["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"]:
        assert f"<B>{name}</B>" in g.source
    assert "<B>x</B>" in g.source  # not a parameter: its own name


def test_without_a_model_names_come_from_the_outermost_modules_in_the_graph() -> None:
    _, _, loss = two_layer_net()
    g = parsed(loss)
    assert "<B>layers.2.weight</B>" in g.source
    assert "layers.1: Tanh" in g.source


def test_module_calls_are_nested_labelled_clusters() -> None:
    model, _, loss = two_layer_net(width=64)
    source = draw_graph(loss, model=model).source
    outer = source.index("label=Sequential ")
    inner = source.index('label="layers.0: Linear(3, 64)"')
    assert outer < inner
    assert 'label="layers.2: Linear(64, 1)"' in source
    assert source.count("subgraph cluster_") == 4 + 1  # 3 layers, the model, the legend
    # the matmul of layer 0 sits inside layer 0's cluster, the loss ops outside every cluster
    block = source[inner : source.index("}", inner)]
    assert "matmul" in block and "layers.0.weight" in block
    top = source[: source.index("subgraph cluster_")]
    assert "<pow>" not in block and ("<mean>" in top or "<mean>" in source[source.rindex("}") :])


def test_module_labels_use_a_short_form_of_extra_repr() -> None:
    assert module_label(FakeModule("in_features=64, out_features=64, bias=True")) == (
        "FakeModule(64, 64)"
    )
    assert module_label(FakeModule("normalized_shape=(64,), eps=1e-05"), "norm") == (
        "norm: FakeModule((64,), eps=1e-05)"
    )
    assert module_label(FakeModule("bias=False"), "") == "FakeModule(bias=False)"
    assert module_label(object()) == "object"


def test_collapsed_modules_are_one_box_each_with_shapes_and_parameters() -> None:
    model, _, loss = two_layer_net(width=16)
    loss.backward()
    g = parsed(loss, model=model, collapse_modules=True, show_grads=True)
    modules = g.ids("m")
    assert len(modules) == 3
    first = g.label(g.find("layers.0: Linear(3, 16)", "m"))
    assert "(5, 3) → (5, 16)" in first and "weight (16, 3)" in first and "bias (16,)" in first
    assert "‖param grads‖" in first
    assert sorted(g.op_names()) == ["mean", "pow"]  # only the loss stays as ops
    assert "layers.0.weight" not in {g.label(t) for t in g.ids("t")}
    chain = [g.find(f"layers.{i}:", "m") for i in range(3)]
    assert (chain[0], chain[1]) in g.edges and (chain[1], chain[2]) in g.edges
    # depth 2 without model: the model is depth 1, its layers depth 2
    assert len(parsed(loss, collapse_modules=2).ids("m")) == 3
    assert len(parsed(loss, collapse_modules=1).ids("m")) == 1


def test_past_max_nodes_the_nearest_ops_are_kept_and_the_rest_summarized() -> None:
    x = ag.Tensor(1.0, requires_grad=True)
    y = x
    for _ in range(50):
        y = ag.sin(y)
    graph = draw_graph(y, max_nodes=10, max_chain=None)
    g = Parsed(graph)
    assert len(g.ids("o")) == 10
    assert graph.omitted_ops == 40
    assert "… 40 more ops" in g.label("more")
    assert "40 of 50 ops not drawn (max_nodes=10)" in graph.source
    assert ("more", g.ids("t")[-1]) in g.edges  # the summary feeds the last drawn tensor
    assert draw_graph(y, max_nodes=None, max_chain=None).omitted_ops == 0


def sin_chain(n: int, x: ag.Tensor) -> ag.Tensor:
    for _ in range(n):
        x = ag.sin(x)
    return x


def test_the_middle_of_a_long_chain_is_one_box_between_its_first_and_last_ops() -> None:
    x = ag.Tensor([0.5, 1.0], requires_grad=True, name="x")
    y = sin_chain(30, x)
    g = parsed(y, max_chain=8)
    assert g.op_names() == ["sin"] * 8  # 4 at each end
    chain = g.find("22 ops in a chain")
    assert "sin ×22" in g.label(chain)
    (into,) = [tail for tail, head in g.edges if head == chain]
    (out,) = [head for tail, head in g.edges if tail == chain]
    assert into.startswith("t") and out.startswith("t")  # tensor -> chain -> tensor
    assert [tail for tail, head in g.edges if head == into] != []  # made by a drawn op
    assert len(g.ids("t")) == 1 + 8 + 1  # x, 8 results, the chain's result
    assert len(parsed(y, max_chain=None).ids("o")) == 30
    nine = parsed(sin_chain(9, x), max_chain=8)
    assert len(nine.ids("o")) == 8 and "… 1 op in a chain" in nine.source
    assert len(parsed(sin_chain(8, x), max_chain=8).ids("o")) == 8


def test_leaves_read_only_inside_an_elided_chain_are_not_drawn() -> None:
    y = ag.Tensor(np.ones(2), requires_grad=True, name="y0")
    weights = [ag.Tensor([1.0, 2.0], requires_grad=True, name=f"w{i}") for i in range(20)]
    for w in weights:
        y = y * w
    g = parsed(y, max_chain=4)  # 2 ops at each end
    drawn = {g.label(t) for t in g.ids("t")}
    names = {f"w{i}" for i in range(20) if any(f"<B>w{i}</B>" in label for label in drawn)}
    assert names == {"w0", "w1", "w18", "w19"}
    assert "mul ×16" in g.label(g.find("16 ops in a chain"))


def test_a_result_used_twice_or_a_module_boundary_ends_a_chain() -> None:
    x = ag.Tensor(0.5, requires_grad=True)
    middle = sin_chain(6, x)
    y = sin_chain(6, middle * middle)  # middle is read twice: two chains of 6, none too long
    assert len(parsed(y, max_chain=8).ids("o")) == 13
    model = Sequential(*[Tanh() for _ in range(12)])
    assert len(parsed(model(x), max_chain=4).ids("o")) == 12  # one op per module: no chain


def test_an_elided_chain_counts_as_one_op_for_max_nodes() -> None:
    y = sin_chain(100, ag.Tensor(1.0, requires_grad=True))
    graph = draw_graph(y, max_nodes=5, max_chain=8)
    g = Parsed(graph)
    assert len(g.ids("o")) == 4 and g.find("92 ops in a chain")  # 4 ops and the chain's box
    assert graph.omitted_ops == 4 and "… 4 more ops" in g.label("more")


def test_a_100000_node_chain_draws_without_recursion() -> None:
    x = ag.Tensor(1.0, requires_grad=True)
    y = x
    with np.errstate(all="ignore"):
        for _ in range(100_000):
            y = y * 1.0
    graph = draw_graph(y)
    assert graph.omitted_ops == 0 and "… 99992 ops in a chain" in graph.source
    assert draw_graph(y, max_chain=None).omitted_ops == 100_000 - 50
    source = draw_graph(y, max_nodes=None, max_chain=None, legend=False).source
    assert source.count(" -> ") == 3 * 100_000  # x -> mul, 1.0 -> mul, mul -> result


def test_graphs_of_gradients_made_with_create_graph_draw_too() -> None:
    x = ag.Tensor(1.5, requires_grad=True, name="x")
    y = ag.exp(x) * x
    y.backward(create_graph=True)
    assert x.grad is not None and x.grad.grad_fn is not None
    g = parsed([y, x.grad])
    assert g.find(">x<")  # one box for x, shared by the forward and the backward graph
    assert len(g.ids("o")) == len(topological_order([y.grad_fn, x.grad.grad_fn]))
    ops_with_output = Counter(s for s, _ in g.edges if s.startswith("o"))
    assert all(n == 1 for n in ops_with_output.values())  # a node has one output box


def test_a_graph_freed_by_backward_still_draws_with_shapes() -> None:
    a = ag.Tensor(np.ones((5, 3)), requires_grad=True)
    b = ag.Tensor(np.ones((3, 4)), requires_grad=True)
    loss = (a @ b)[0:2].sum()
    before = parsed(loss)
    loss.backward()
    after = parsed(loss, show_values=True)
    assert len(after.nodes) == len(before.nodes) and len(after.edges) == len(before.edges)
    assert "(5, 4) float64" in after.source and "(2, 4) float64" in after.source
    assert "freed by backward" in after.source


def test_gradient_norms_colour_tensors_on_a_log_scale_and_tensors_without_grad_are_grey() -> None:
    small = ag.Tensor([1.0, 1.0], requires_grad=True, name="small")
    big = ag.Tensor([1.0, 1.0], requires_grad=True, name="big")
    y = (small * 1e-6).sum() + (big * 10.0).sum()
    y.backward()
    graph = draw_graph(y, show_grads=True)
    g = Parsed(graph)
    assert g.fill(g.find(">small<")) == gradient_color(0.0)
    assert g.fill(g.find(">big<")) == gradient_color(1.0)
    assert g.fill(g.roots()[0]) == "#d9d9d9"  # the root keeps no grad
    assert "‖grad‖ = 1.414e-06" in g.label(g.find(">small<"))
    legend = graph.source.split("cluster_legend")[1]
    assert "log scale" in legend and "1.414e-06" in legend and "14.14" in legend


def test_gradient_colormap_runs_from_dark_purple_to_yellow() -> None:
    assert gradient_color(0.0) == "#440154"
    assert gradient_color(1.0) == "#fde725"
    assert gradient_color(-3.0) == gradient_color(0.0) and gradient_color(7.0) == "#fde725"
    assert gradient_color(0.5) == "#21918c"


def test_retained_intermediate_gradients_are_shown() -> None:
    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    h = x * 2.0
    h.retain_grad()
    h.sum().backward()
    g = parsed(h.sum(), show_grads=True)  # a fresh root over the same h
    h_box = next(t for t in g.ids("t") if "1.414" in g.label(t))
    assert "(2,) float64" in g.label(h_box) and g.fill(h_box) != "#d9d9d9"


def test_a_user_defined_primitive_draws_under_its_own_name() -> None:
    cube = ag.Primitive(
        "cube",
        lambda x: x**3,
        (lambda g, out, x: g * 3.0 * x * x,),
        (lambda t, out, x: t * 3.0 * x * x,),
        doc="x ** 3; d/dx = 3 x^2",
    )
    x = ag.Tensor(2.0, requires_grad=True)
    g = parsed(cube(x))
    assert g.op_names() == ["cube"]
    assert 'tooltip="x ** 3; d/dx = 3 x^2"' in g.source


@needs_dot
def test_names_with_markup_characters_are_escaped() -> None:
    class Odd:
        def extra_repr(self) -> str:
            return "mode='a\"b\\c', n=3"

    x = ag.Tensor([1.0, 2.0], requires_grad=True, name='x<&"y>\\')
    with ag.module_scope(Odd()):
        y = (x * 2).sum()
    svg = draw_graph(y, show_values=True).pipe(format="svg")
    text = "".join(ET.fromstring(svg).itertext())
    assert 'x<&"y>\\' in text and "Odd(mode='a\"b\\c', 3)" in text


def test_bad_arguments_are_reported_at_the_call() -> None:
    x = ag.Tensor(1.0, requires_grad=True)
    with pytest.raises(TypeError, match="root must be a Tensor"):
        draw_graph(np.ones(2))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rankdir"):
        draw_graph(x * 2, rankdir="XY")
    with pytest.raises(ValueError, match="max_nodes"):
        draw_graph(x * 2, max_nodes=0)
    with pytest.raises(ValueError, match="max_chain"):
        draw_graph(x * 2, max_chain=1)
    for wrong in [3.0, None, "y"]:
        with pytest.raises(
            TypeError, match=rf"draw_graph: root must be a Tensor.*got {type(wrong).__name__}"
        ):
            draw_graph(wrong)  # type: ignore[arg-type]


def test_importing_autograd_core_does_not_import_graphviz() -> None:
    code = "import sys, autograd_core; assert 'graphviz' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------------------------
# Rendering.
# --------------------------------------------------------------------------------------------


def png_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(PNG_SIGNATURE)
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk
    return width, height


def assert_readable(graph: Any) -> tuple[int, int]:
    """Drawn at its natural size (dot did not shrink the text to fit a bitmap limit), no
    side over 4000 pixels, and no more than 4 times as long as it is wide (or tall)."""
    width, height = png_size(graph.pipe(format="png"))
    plain = graph.pipe(format="plain").decode().split()  # "graph scale width height", inches
    natural = (round(float(plain[2]) * 96), round(float(plain[3]) * 96))
    padding = 16  # dot's margin around the drawing
    assert abs(width - natural[0]) <= padding and abs(height - natural[1]) <= padding
    assert max(width, height) <= 4000 and max(width, height) / min(width, height) <= 4
    return width, height


@needs_dot
def test_a_5000_op_chain_renders_readably_by_default() -> None:
    x = ag.Tensor(np.ones(3), requires_grad=True, name="x")
    y = x
    for i in range(5000):
        y = ag.sin(y) if i % 2 else y * 1.01
    _, height = assert_readable(draw_graph(y.sum()))
    assert height < 1200


@needs_dot
def test_a_40_op_residual_network_renders_readably_and_whole_by_default() -> None:
    rng = np.random.default_rng(0)
    h = ag.Tensor(rng.standard_normal((2, 4)), name="x")
    for i in range(10):  # 4 ops a block: matmul, add, relu, and the skip connection's add
        w = ag.Tensor(rng.standard_normal((4, 4)), requires_grad=True, name=f"w{i}")
        b = ag.Tensor(np.zeros(4), requires_grad=True, name=f"b{i}")
        h = h + ag.relu(h @ w + b)
    graph = draw_graph(h)
    assert graph.omitted_ops == 0 and len(Parsed(graph).ids("o")) == 40
    assert_readable(graph)


@needs_dot
def test_an_mlp_training_step_renders_readably_with_gradients() -> None:
    import nn

    nn.manual_seed(0)
    model = nn.MLP([64, 64, 32, 10])
    optimizer = nn.optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    x, labels = rng.standard_normal((32, 64)), rng.integers(0, 10, 32)
    loss = nn.CrossEntropyLoss()(model(ag.Tensor(x)), labels)
    loss.backward()
    optimizer.step()
    graph = draw_graph(loss, model=model, show_grads=True)
    assert "0.weight" in graph.source and "‖grad‖" in graph.source
    assert_readable(graph)


@needs_dot
def test_render_writes_png_and_svg_files(tmp_path: Any) -> None:
    _, _, loss = two_layer_net()
    graph = draw_graph(loss, show_values=True)
    png = graph.render(tmp_path / "graph.png")
    assert png.endswith("graph.png")
    assert (tmp_path / "graph.png").read_bytes().startswith(PNG_SIGNATURE)
    svg = graph.render(tmp_path / "graph", format="svg")
    ET.parse(svg)  # well-formed XML
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.png", "graph.svg"]


@needs_dot
def test_pipe_and_jupyter_display_produce_images() -> None:
    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    graph = draw_graph((x * x).sum(), show_grads=True)
    root = ET.fromstring(graph.pipe(format="svg"))
    assert root.tag.endswith("svg")
    bundle = graph._repr_mimebundle_()
    assert "<svg" in bundle["image/svg+xml"]


def test_a_missing_dot_program_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    graph = draw_graph(ag.Tensor(1.0, requires_grad=True) * 2)
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no `dot` on it
    for attempt in [
        lambda: graph.pipe(format="png"),
        lambda: graph.render(tmp_path / "g.png"),
        lambda: graph._repr_mimebundle_(),
    ]:
        with pytest.raises(GraphvizNotFoundError, match=r"apt-get install graphviz") as info:
            attempt()
        assert "brew install graphviz" in str(info.value)


# --------------------------------------------------------------------------------------------
# The backward pass, step by step.
# --------------------------------------------------------------------------------------------


def _graphs() -> list[tuple[str, Any]]:
    rng = np.random.default_rng(1)

    def mlp() -> tuple[ag.Tensor, list[ag.Tensor]]:
        w1 = ag.Tensor(rng.standard_normal((3, 4)), requires_grad=True, name="W1")
        b1 = ag.Tensor(rng.standard_normal(4), requires_grad=True, name="b1")
        w2 = ag.Tensor(rng.standard_normal((4, 1)), requires_grad=True, name="W2")
        x = ag.Tensor(rng.standard_normal((5, 3)), name="x")
        h = ag.sigmoid(x @ w1 + b1)
        return ((h @ w2) ** 2).mean(), [w1, b1, w2]

    def shared() -> tuple[ag.Tensor, list[ag.Tensor]]:
        x = ag.Tensor([0.5, -1.0, 2.0], requires_grad=True)
        return (x * x + ag.sin(x) * x).sum(), [x]

    def survey() -> tuple[ag.Tensor, list[ag.Tensor]]:
        x1 = ag.Tensor(2.0, requires_grad=True, name="x1")
        x2 = ag.Tensor(5.0, requires_grad=True, name="x2")
        return ag.log(x1) + x1 * x2 - ag.sin(x2), [x1, x2]

    def broadcast() -> tuple[ag.Tensor, list[ag.Tensor]]:
        a = ag.Tensor(rng.standard_normal((2, 3)), requires_grad=True)
        b = ag.Tensor(rng.standard_normal((3,)), requires_grad=True)
        return ag.logsumexp(a * b, axis=1)[1:].sum(), [a, b]

    return [("mlp", mlp), ("shared", shared), ("survey", survey), ("broadcast", broadcast)]


@pytest.mark.parametrize(("name", "build"), _graphs())
def test_backward_steps_give_the_same_gradients_as_backward(name: str, build: Any) -> None:
    root, leaves = build()
    steps = backward_steps(root)
    assert all(leaf.grad is None for leaf in leaves)  # the replay touched no .grad
    assert len(steps) == len(topological_order(root.grad_fn))
    root.backward()
    for leaf in leaves:
        np.testing.assert_allclose(steps.grad_of(leaf), leaf.grad.data, rtol=1e-12, atol=1e-14)


def test_backward_steps_follow_the_delta_recursion_in_topological_order() -> None:
    x1 = ag.Tensor(2.0, requires_grad=True, name="x1")
    x2 = ag.Tensor(5.0, requires_grad=True, name="x2")
    y = ag.log(x1) + x1 * x2 - ag.sin(x2)
    steps = backward_steps(y)
    assert steps[0].op == "sub"  # the last op runs first
    assert steps[0].upstream == 1.0
    mul = next(s for s in steps if s.op == "mul")
    assert mul.expression.endswith("= mul(x1, x2)")
    assert [i.name for i in mul.inputs] == ["x1", "x2"]
    assert [float(i.grad) for i in mul.inputs] == [5.0, 2.0]
    assert steps.grad_of(x1) == pytest.approx(5.5)
    assert steps.grad_of(x2) == pytest.approx(1.7163378145367738)


def test_backward_steps_print_as_a_table_and_as_html() -> None:
    model, _, loss = two_layer_net(width=4)
    steps = backward_steps(loss, model=model)
    text = str(steps)
    lines = text.splitlines()
    assert lines[0].split()[:2] == ["step", "node"] and "∂L/∂input" in lines[0]
    assert "layers.0.weight" in text and "gradients of the leaves" in text
    assert "matmul" in text and "vjp wrt arg" in text
    page = steps._repr_html_()
    table_rows = lines.index("") - 1  # header, rule line, rows
    assert page.startswith("<table") and "<th>step</th>" in page
    assert page.count("<tr>") == table_rows


def test_backward_steps_need_a_graph_that_was_not_freed() -> None:
    x = ag.Tensor(2.0, requires_grad=True)
    y = x * x
    y.backward()
    with pytest.raises(RuntimeError, match="freed"):
        backward_steps(y)
    with pytest.raises(ValueError, match="leaf"):
        backward_steps(x)
    z = ag.Tensor([1.0, 2.0], requires_grad=True) * 3.0
    with pytest.raises(RuntimeError, match="one-element"):
        backward_steps(z)
    assert backward_steps(z, gradient=np.ones(2))[0].inputs[0].grad.tolist() == [3.0, 3.0]


def test_a_drawings_repr_has_no_memory_address() -> None:
    """Stored notebooks show the repr: it must not change from one run to the next."""
    x = ag.Tensor(1.0, requires_grad=True)
    text = repr(ag.draw_graph(x * 2.0))
    assert text.startswith("<GraphDrawing") and "0x" not in text
