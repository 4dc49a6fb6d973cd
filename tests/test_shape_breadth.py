"""PyTorch's spelling of shapes and axes: size()/numel()/dim(), transpose vs permute,
split/chunk piece sizes, squeeze with dim=, and the errors that point users the right way."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_core as ag


def test_size_numel_dim_follow_pytorch() -> None:
    x = ag.Tensor(np.zeros((2, 3, 4)))
    assert x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4
    assert x.numel() == 24 and x.dim() == 3
    with pytest.raises(IndexError, match="out of range"):
        x.size(3)
    assert ag.Tensor(1.0).size() == () and ag.Tensor(1.0).numel() == 1


def test_transpose_swaps_two_axes_and_points_to_permute_otherwise() -> None:
    x = ag.Tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(x.transpose(0, 1).data, x.data.T)
    np.testing.assert_array_equal(x.transpose(1, 0).data, x.data.T)  # never a silent no-op
    y = ag.Tensor(np.zeros((2, 3, 4)))
    with pytest.raises(TypeError, match=r"permute\(2, 0, 1\)"):
        y.transpose(2, 0, 1)
    with pytest.raises(TypeError, match="permute"):
        ag.transpose(y, (2, 0, 1))
    assert y.permute(2, 0, 1).shape == (4, 2, 3) and y.permute((1, 2, 0)).shape == (3, 4, 2)
    assert y.T.shape == (4, 3, 2) and y.mT.shape == (2, 4, 3)
    with pytest.raises(ValueError, match="not a permutation"):
        y.permute(0, 0, 1)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 9), size=st.integers(1, 5), chunks=st.integers(1, 5))
def test_split_and_chunk_piece_sizes(n: int, size: int, chunks: int) -> None:
    x = ag.Tensor(np.arange(float(n)))
    pieces = x.split(size)
    assert sum(p.shape[0] for p in pieces) == n
    np.testing.assert_array_equal(ag.cat(pieces).data, x.data)
    if n:
        assert all(p.shape[0] == size for p in pieces[:-1]) and 0 < pieces[-1].shape[0] <= size
        parts = x.chunk(chunks)
        assert len(parts) <= chunks and all(p.shape[0] == parts[0].shape[0] for p in parts[:-1])
        np.testing.assert_array_equal(ag.cat(parts).data, x.data)


def test_split_and_chunk_match_pytorch() -> None:
    torch = pytest.importorskip("torch")
    for n in range(0, 10):
        for k in range(1, 6):
            ours = [p.shape for p in ag.Tensor(np.zeros((n, 2))).split(k)]
            assert ours == [tuple(p.shape) for p in torch.zeros(n, 2).split(k)], (n, k)
            if n:
                ours = [p.shape for p in ag.Tensor(np.zeros((n, 2))).chunk(k)]
                assert ours == [tuple(p.shape) for p in torch.zeros(n, 2).chunk(k)], (n, k)


def test_split_sections_must_add_up() -> None:
    x = ag.Tensor(np.zeros((5, 2)))
    with pytest.raises(ValueError, match="add up to 5"):
        x.split([2, 2])
    with pytest.raises(ValueError, match="positive"):
        x.split(0)
    with pytest.raises(ValueError, match="chunks must be a positive int"):
        x.chunk(0)


def test_split_pieces_are_views_that_count_in_place_changes() -> None:
    base = ag.Tensor(np.arange(6.0))
    first, _ = base.split(3)
    before = first._version
    with ag.no_grad():
        base += 1.0
    assert first._version == before + 1
    np.testing.assert_array_equal(first.data, [1.0, 2.0, 3.0])


def test_squeeze_axis_follows_numpy_and_dim_follows_pytorch() -> None:
    x = ag.Tensor(np.zeros((2, 1, 3)))
    with pytest.raises(ValueError, match="not 1"):
        x.squeeze(0)  # numpy: an axis that is not size 1 is an error
    assert x.squeeze(dim=0).shape == (2, 1, 3)  # PyTorch: left alone
    assert x.squeeze(dim=1).shape == (2, 3) and x.unsqueeze(dim=0).shape == (1, 2, 1, 3)
    with pytest.raises(TypeError, match="got both"):
        x.squeeze(1, dim=1)


def test_expand_repeat_tile_shapes_and_errors() -> None:
    x = ag.Tensor(np.arange(3.0).reshape(3, 1))
    assert x.expand(2, -1, 4).shape == (2, 3, 4)
    with pytest.raises(ValueError, match="new leading"):
        x.expand(-1, 3, 4)
    with pytest.raises(ValueError, match="cannot broadcast"):
        x.expand(2, 5)
    assert x.repeat(2, 2).shape == (6, 2) and ag.tile(x, 2).shape == (3, 2)
    np.testing.assert_array_equal(ag.tile(x, (2, 1, 2)).data, np.tile(x.data, (2, 1, 2)))
    with pytest.raises(ValueError, match="at least one per dimension"):
        x.repeat(2)


def test_masked_fill_needs_a_boolean_mask() -> None:
    x = ag.Tensor(np.ones((2, 3)), requires_grad=True)
    mask = np.array([True, False, True])
    out = x.masked_fill(mask, 0.0)
    np.testing.assert_array_equal(out.data, [[0, 1, 0], [0, 1, 0]])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0, 1, 0], [0, 1, 0]])
    with pytest.raises(TypeError, match="boolean"):
        x.masked_fill(np.array([1, 0, 1]), 0.0)
    with pytest.raises(ValueError, match="does not broadcast"):
        x.masked_fill(np.ones(2, bool), 0.0)


def test_flip_roll_moveaxis_follow_numpy() -> None:
    data = np.arange(24.0).reshape(2, 3, 4)
    x = ag.Tensor(data)
    np.testing.assert_array_equal(x.flip().data, np.flip(data))
    np.testing.assert_array_equal(x.flip(1).data, np.flip(data, 1))
    np.testing.assert_array_equal(x.roll(5).data, np.roll(data, 5))
    np.testing.assert_array_equal(x.roll((1, 2), (0, 2)).data, np.roll(data, (1, 2), (0, 2)))
    np.testing.assert_array_equal(
        x.moveaxis([0, 1], [-1, 0]).data, np.moveaxis(data, [0, 1], [-1, 0])
    )
    flipped = x.flip(0)
    flipped.data[0, 0, 0] = -1.0  # flip copies, as PyTorch: x is untouched
    assert x.data[1, 0, 0] == 12.0
    with pytest.raises(ValueError, match="differ in length"):
        x.roll((1, 2), 0)


def test_pytorch_conveniences_to_contiguous_t() -> None:
    x = ag.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert x.to(np.float32).dtype == np.float32 and x.to("cpu") is x
    assert x.contiguous() is x and x.t().shape == (3, 2) and x[0].t().shape == (3,)
    with pytest.raises(ValueError, match="at most 2"):
        ag.Tensor(np.zeros((1, 2, 3))).t()


def test_pytorch_method_spellings_of_module_functions() -> None:
    x = ag.Tensor(np.array([[-2.0, 0.5], [1.5, 3.0]]), requires_grad=True)
    y = ag.Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]))
    np.testing.assert_allclose(x.add(y).data, x.data + y.data)
    np.testing.assert_allclose(x.sub(1).data, x.data - 1)
    np.testing.assert_allclose(x.mul(y).data, x.data * y.data)
    np.testing.assert_allclose(x.div(2).data, x.data / 2)
    np.testing.assert_allclose(x.pow(2).data, x.data**2)
    np.testing.assert_allclose(x.matmul(y).data, x.data @ y.data)
    np.testing.assert_allclose(x.erf().data, ag.erf(x).data)
    np.testing.assert_allclose(x.clamp(min=0.0).data, np.maximum(x.data, 0.0))
    np.testing.assert_allclose(ag.clamp(x, -1, 1).data, np.clip(x.data, -1, 1))
    np.testing.assert_allclose(x.clip(max=1.0).data, np.minimum(x.data, 1.0))
    with pytest.raises(TypeError, match="got both"):
        x.clip(0.0, min=0.0)
    np.testing.assert_allclose((x // 2).data, np.floor(x.data / 2))
    np.testing.assert_allclose((7.0 // y).data, np.floor(7.0 / y.data))
    assert x[:1].expand_as(x).shape == (2, 2) and x.view_as(np.zeros(4)).shape == (4,)
    shaped = ag.randn_like(x, generator=0)
    assert shaped.shape == x.shape and shaped.dtype == x.dtype and not shaped.requires_grad
    assert ag.rand_like(x.float()).dtype == np.float32


def test_roll_refuses_non_integer_shifts_and_dims_clearly() -> None:
    x = ag.Tensor(np.arange(6.0).reshape(2, 3))
    with pytest.raises(TypeError, match="shifts must be ints"):
        x.roll(1.5)
    with pytest.raises(TypeError, match="axis must be an int"):
        x.roll(1, 0.5)
