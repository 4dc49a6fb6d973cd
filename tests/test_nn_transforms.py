"""Image augmentation (`nn.transforms`) and `DataLoader(transform=...)`: the invariants of each
transform (a flip twice is the identity, a crop is a window of the zero-padded image, the PCA
colour offset is one colour per image, Normalize is undone by its inverse), AlexNet's PCA fitted
as the paper says, seeded reproducibility, Tensors in and out (differentiably), the loader
applying a transform per batch and resuming it exactly from a checkpoint, the bundled photo,
and the error messages."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autograd_core as ag
import nn

T = nn.transforms
FAST = settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
ROOT = Path(__file__).resolve().parent.parent


def batches(max_side: int = 7) -> st.SearchStrategy[np.ndarray]:
    """Batches (N, C, H, W) of distinct random values (so a window is found in one place)."""
    shapes = st.tuples(
        st.integers(1, 4), st.integers(1, 3), st.integers(1, max_side), st.integers(1, max_side)
    )
    return st.builds(
        lambda shape, seed: np.random.default_rng(seed).random(shape) + 1.0,
        shapes,
        st.integers(0, 2**32 - 1),
    )


def positions_of(window: np.ndarray, image: np.ndarray) -> list[tuple[int, int]]:
    """Every (top, left) where `window` (C, h, w) sits in `image` (C, H, W)."""
    _, h, w = window.shape
    return [
        (top, left)
        for top in range(image.shape[1] - h + 1)
        for left in range(image.shape[2] - w + 1)
        if np.array_equal(image[:, top : top + h, left : left + w], window)
    ]


# --------------------------------------------------------------------------------------------
# RandomHorizontalFlip
# --------------------------------------------------------------------------------------------


@FAST
@given(images=batches(), p=st.sampled_from([0.0, 0.3, 0.5, 1.0]), seed=st.integers(0, 99))
def test_flipping_twice_with_the_same_draws_gives_the_images_back(
    images: np.ndarray, p: float, seed: int
) -> None:
    once = T.RandomHorizontalFlip(p, generator=seed)(images)
    twice = T.RandomHorizontalFlip(p, generator=seed)(once)
    np.testing.assert_array_equal(twice, images)
    for original, flipped in zip(images, once, strict=True):  # each image: as is, or mirrored
        assert np.array_equal(flipped, original) or np.array_equal(flipped, original[..., ::-1])


def test_p_is_the_chance_each_image_is_mirrored_on_its_own() -> None:
    images = np.random.default_rng(0).random((2000, 1, 2, 3))
    out = T.RandomHorizontalFlip(0.3, generator=1)(images)
    mirrored = np.array([not np.array_equal(a, b) for a, b in zip(out, images, strict=True)])
    assert abs(mirrored.mean() - 0.3) < 0.04  # binomial std 0.01
    np.testing.assert_array_equal(out[mirrored], images[mirrored][..., ::-1])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(1.0)(images), images[..., ::-1])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(0.0)(images), images)


# --------------------------------------------------------------------------------------------
# RandomCrop
# --------------------------------------------------------------------------------------------


@FAST
@given(images=batches(), data=st.data())
def test_a_crop_is_a_window_of_the_zero_padded_image(images: np.ndarray, data: Any) -> None:
    n, c, h, w = images.shape
    pad = data.draw(st.tuples(st.integers(0, 3), st.integers(0, 3)), label="padding")
    size = (
        data.draw(st.integers(1, h + 2 * pad[0]), label="height"),
        data.draw(st.integers(1, w + 2 * pad[1]), label="width"),
    )
    out = T.RandomCrop(size, padding=pad, generator=data.draw(st.integers(0, 99)))(images)
    assert out.shape == (n, c, *size) and out.dtype == images.dtype
    padded = np.zeros((n, c, h + 2 * pad[0], w + 2 * pad[1]))
    padded[:, :, pad[0] : pad[0] + h, pad[1] : pad[1] + w] = images
    for window, image in zip(out, padded, strict=True):
        assert positions_of(window, image), "the crop is no window of its padded image"


def test_crop_positions_are_uniform_over_every_window() -> None:
    images = np.arange(1.0, 17.0).reshape(1, 1, 4, 4).repeat(3000, axis=0)
    out = T.RandomCrop(4, padding=1, generator=0)(images)
    padded = np.pad(images[0], ((0, 0), (1, 1), (1, 1)))
    found = [positions_of(window, padded) for window in out]
    assert all(len(p) == 1 for p in found)  # distinct values: each window sits in one place
    counts = np.zeros((3, 3))
    for ((top, left),) in found:
        counts[top, left] += 1
    assert counts.min() > 3000 / 9 * 0.8 and counts.max() < 3000 / 9 * 1.2


def test_a_crop_of_the_whole_unpadded_image_is_the_image_and_ints_stay_ints() -> None:
    images = np.arange(2 * 3 * 5 * 6, dtype=np.uint8).reshape(2, 3, 5, 6)
    out = T.RandomCrop((5, 6))(images)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, images)
    assert T.RandomCrop(3, padding=2)(images).dtype == np.uint8


# --------------------------------------------------------------------------------------------
# PCAColorAugmentation (AlexNet)
# --------------------------------------------------------------------------------------------


def correlated_colours(n: int = 20, seed: int = 0) -> np.ndarray:
    """Images whose RGB values vary mostly along one direction, as natural colours do."""
    rng = np.random.default_rng(seed)
    brightness = rng.random((n, 1, 6, 5))
    return (
        0.2
        + 0.6 * brightness * np.array([1.0, 0.8, 0.5])[:, None, None]
        + 0.05 * rng.random((n, 3, 6, 5))
    )


def test_fit_finds_the_eigenvectors_of_the_rgb_covariance_of_all_training_pixels() -> None:
    images = correlated_colours()
    pca = T.PCAColorAugmentation().fit(images)
    assert pca.eigenvalues is not None and pca.eigenvectors is not None
    # the covariance of every pixel of every image as one sample, written out by hand
    pixels = images.transpose(0, 2, 3, 1).reshape(-1, 3)
    centred = pixels - pixels.mean(axis=0)
    covariance = centred.T @ centred / (len(pixels) - 1)
    np.testing.assert_allclose(
        covariance @ pca.eigenvectors, pca.eigenvectors * pca.eigenvalues, atol=1e-14
    )
    np.testing.assert_allclose(pca.eigenvectors.T @ pca.eigenvectors, np.eye(3), atol=1e-14)
    assert list(pca.eigenvalues) == sorted(pca.eigenvalues, reverse=True)
    assert pca.eigenvalues[0] > 10 * pca.eigenvalues[1]  # one dominant colour direction
    direction = np.array([1.0, 0.8, 0.5]) / np.linalg.norm([1.0, 0.8, 0.5])
    assert abs(pca.eigenvectors[:, 0] @ direction) > 0.99


@FAST
@given(images=batches(), seed=st.integers(0, 99), alpha_std=st.sampled_from([0.1, 1.0, 5.0]))
def test_the_pca_offset_is_one_colour_for_every_pixel_of_an_image(
    images: np.ndarray, seed: int, alpha_std: float
) -> None:
    pca = T.PCAColorAugmentation(alpha_std, generator=seed).fit(correlated_colours(4))
    images = images[:, :1].repeat(3, axis=1)  # three channels
    offset = pca(images) - images
    np.testing.assert_allclose(offset, np.broadcast_to(offset[:, :, :1, :1], offset.shape))
    # and it is sum_i alpha_i lambda_i p_i with alpha_i ~ N(0, alpha_std) per image
    assert pca.eigenvalues is not None and pca.eigenvectors is not None
    alpha = np.random.default_rng(seed).normal(0.0, alpha_std, (len(images), 3))
    expected = np.einsum("ni,i,ci->nc", alpha, pca.eigenvalues, pca.eigenvectors)
    np.testing.assert_allclose(offset[:, :, 0, 0], expected, rtol=1e-12, atol=1e-15)


def test_the_pca_offsets_spread_along_each_component_as_alpha_std_times_lambda() -> None:
    pca = T.PCAColorAugmentation(alpha_std=0.1, generator=0).fit(correlated_colours())
    assert pca.eigenvalues is not None and pca.eigenvectors is not None
    offsets = pca.offsets(20000)
    spread = (offsets @ pca.eigenvectors).std(axis=0)  # coordinates along p_1, p_2, p_3
    np.testing.assert_allclose(spread, 0.1 * pca.eigenvalues, rtol=0.03)
    images = correlated_colours(3).astype(np.float32)
    assert pca(images).dtype == np.float32
    np.testing.assert_array_equal(T.PCAColorAugmentation(0.0).fit(images)(images), images)


# --------------------------------------------------------------------------------------------
# Normalize, Compose
# --------------------------------------------------------------------------------------------


@FAST
@given(images=batches(), data=st.data())
def test_normalize_then_inverse_gives_the_input(images: np.ndarray, data: Any) -> None:
    c = images.shape[1]
    mean = data.draw(st.lists(st.floats(-2, 2), min_size=c, max_size=c))
    std = data.draw(st.lists(st.floats(0.1, 3), min_size=c, max_size=c))
    normalize = T.Normalize(mean, std)
    out = normalize(images)
    expected = (images - np.array(mean)[:, None, None]) / np.array(std)[:, None, None]
    np.testing.assert_allclose(out, expected, rtol=1e-14)
    np.testing.assert_allclose(normalize.inverse(out), images, rtol=1e-14, atol=1e-14)


def test_normalizing_by_the_channel_statistics_gives_zero_mean_and_unit_std() -> None:
    images = correlated_colours().astype(np.float32)
    normalize = T.Normalize(images.mean(axis=(0, 2, 3)), images.std(axis=(0, 2, 3)))
    out = normalize(images)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=(0, 2, 3)), 1, atol=1e-5)
    np.testing.assert_array_equal(T.Normalize(0.5, 0.25)(images), (images - 0.5) / 0.25)


def test_compose_applies_its_transforms_in_order() -> None:
    images = np.random.default_rng(0).random((3, 2, 5, 5))
    steps = [T.RandomCrop(3, padding=1, generator=0), T.Normalize([1, 2], [2, 4])]
    composed = T.Compose([T.RandomCrop(3, padding=1, generator=0), T.Normalize([1, 2], [2, 4])])
    np.testing.assert_array_equal(composed(images), steps[1](steps[0](images)))
    assert "RandomCrop(size=(3, 3), padding=(1, 1))" in repr(composed)


# --------------------------------------------------------------------------------------------
# Seeds, state dicts, Tensors
# --------------------------------------------------------------------------------------------


def every_random_transform(generator: Any) -> list[Any]:
    return [
        T.RandomHorizontalFlip(generator=generator),
        T.RandomCrop(4, padding=2, generator=generator),
        T.PCAColorAugmentation(0.5, generator=generator).fit(correlated_colours()),
    ]


@pytest.mark.parametrize("index", range(3), ids=["flip", "crop", "pca"])
def test_seeded_transforms_are_reproducible(index: int) -> None:
    images = correlated_colours(8)

    def run(generator: Any) -> list[np.ndarray]:
        transform = every_random_transform(generator)[index]
        return [transform(images) for _ in range(3)]

    same, other = run(5), run(6)
    for a, b in zip(run(5), same, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not all(np.array_equal(a, b) for a, b in zip(same, other, strict=True))
    assert not np.array_equal(same[0], same[1])  # each call draws anew
    nn.manual_seed(3)  # None: the program's default generator, which manual_seed reseeds
    first = run(None)
    nn.manual_seed(3)
    for a, b in zip(run(None), first, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(run(np.random.default_rng(5))[2], same[2])


@pytest.mark.parametrize("index", range(3), ids=["flip", "crop", "pca"])
def test_a_state_dict_replays_the_next_draws(index: int, tmp_path: Path) -> None:
    images = correlated_colours(8)
    transform = every_random_transform(0)[index]
    transform(images)
    state = transform.state_dict()
    expected = transform(images)
    transform(images)
    fresh = every_random_transform(99)[index]
    nn.save(state, tmp_path / "state.npz")
    fresh.load_state_dict(nn.load(tmp_path / "state.npz"))  # through a checkpoint file
    np.testing.assert_array_equal(fresh(images), expected)


def test_compose_saves_the_state_of_each_random_transform() -> None:
    images = correlated_colours(8)

    def make(seed: int) -> T.Compose:
        return T.Compose([*every_random_transform(seed), T.Normalize(0.5, 0.2)])

    compose = make(0)
    compose(images)
    state = compose.state_dict()
    assert state["transforms"][3] is None  # Normalize draws nothing
    expected = compose(images)
    fresh = make(1)
    fresh.load_state_dict(state)
    np.testing.assert_array_equal(fresh(images), expected)
    broken = {"transforms": [*state["transforms"][:2], {"generator": {"bad": 1}}, None]}
    before = fresh.state_dict()
    with pytest.raises(ValueError, match=r"PCAColorAugmentation\.load_state_dict: the saved gen"):
        fresh.load_state_dict(broken)
    assert str(fresh.state_dict()) == str(before)  # nothing written
    with pytest.raises(ValueError, match="the saved state has 2 transforms, this Compose has 4"):
        fresh.load_state_dict({"transforms": [None, None]})
    with pytest.raises(ValueError, match=r"transform 3 \(Normalize\) has no state, the saved"):
        fresh.load_state_dict({"transforms": [*state["transforms"][:3], state["transforms"][0]]})


def test_tensors_come_back_as_tensors_with_gradients_through_the_transform() -> None:
    images = correlated_colours(4).astype(np.float32)
    pipeline = [
        *every_random_transform(0),
        T.Normalize([0.5, 0.4, 0.3], [0.2, 0.2, 0.2]),
    ]
    for transform, twin in zip(pipeline, [*every_random_transform(0), pipeline[3]], strict=True):
        x = ag.Tensor(images, requires_grad=True)
        out = transform(x)
        assert isinstance(out, ag.Tensor) and out.dtype == np.float32 and out.requires_grad
        np.testing.assert_array_equal(out.data, twin(images))  # the same draws as on arrays
    # the gradient reaches exactly the pixels inside the window (zero padding gets none)
    pixels = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    x = ag.Tensor(pixels, requires_grad=True)
    out = T.RandomCrop(2, padding=1, generator=0)(x)
    out.sum().backward()
    assert x.grad is not None
    np.testing.assert_array_equal(x.grad.data, np.isin(pixels, out.data))


# --------------------------------------------------------------------------------------------
# DataLoader(transform=...)
# --------------------------------------------------------------------------------------------


def test_the_loader_applies_the_transform_to_each_batch_of_inputs() -> None:
    X = np.random.default_rng(0).random((10, 1, 3, 4))
    calls: list[tuple[type, tuple[int, ...]]] = []

    def mirror(images: np.ndarray) -> np.ndarray:
        calls.append((type(images), images.shape))
        return images[..., ::-1]

    loader = nn.data.DataLoader(nn.data.TensorDataset(X, np.arange(10)), 4, transform=mirror)
    got = list(loader)
    assert calls == [
        (np.ndarray, (4, 1, 3, 4)),
        (np.ndarray, (4, 1, 3, 4)),
        (np.ndarray, (2, 1, 3, 4)),
    ]
    assert all(isinstance(x, ag.Tensor) for x, _ in got)
    np.testing.assert_array_equal(np.concatenate([x.data for x, _ in got]), X[..., ::-1])
    np.testing.assert_array_equal(np.concatenate([y for _, y in got]), np.arange(10))
    samples = [(X[i], i) for i in range(10)]  # a plain list of samples: collated, then mirrored
    x, y = next(iter(nn.data.DataLoader(samples, 3, transform=T.RandomHorizontalFlip(1.0))))
    np.testing.assert_array_equal(x.data, X[:3, ..., ::-1])
    assert y.tolist() == [0, 1, 2]


def augmenting_loader(seed: int | None, transform_seed: int | None) -> nn.data.DataLoader:
    X = np.random.default_rng(0).random((11, 2, 5, 5)).astype(np.float32)
    transform = T.Compose(
        [
            T.RandomHorizontalFlip(generator=transform_seed),
            T.RandomCrop(5, padding=1, generator=transform_seed),
            T.PCAColorAugmentation(1.0, generator=transform_seed).fit(X),
        ]
    )
    data = nn.data.TensorDataset(X, np.arange(11))
    return nn.data.DataLoader(data, 3, shuffle=True, seed=seed, transform=transform)


def epoch(loader: nn.data.DataLoader) -> list[np.ndarray]:
    return [x.data for x, _ in loader]


SEEDS = pytest.mark.parametrize(
    ("seed", "transform_seed"), [(0, 1), (None, None)], ids=["own seeds", "default generator"]
)


def same_batches(got: list[np.ndarray], expected: list[np.ndarray]) -> None:
    assert len(got) == len(expected)
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_array_equal(a, b)


@SEEDS
@pytest.mark.parametrize("saved_after", [0, 1, 2, 3, 4], ids=lambda k: f"{k} of 4 batches")
def test_a_loader_with_random_transforms_resumes_exactly(
    seed: int | None, transform_seed: int | None, saved_after: int, tmp_path: Path
) -> None:
    """Saved after one pass and `saved_after` batches of the second, restored into a fresh
    loader in a restarted program: the rest is what a straight run gives. Without seeds the
    shuffle and the transforms all draw from the program's default generator."""
    nn.manual_seed(0)
    straight = augmenting_loader(seed, transform_seed)
    expected = [epoch(straight) for _ in range(3)]

    nn.manual_seed(0)
    first = augmenting_loader(seed, transform_seed)
    same_batches(epoch(first), expected[0])
    taken = []
    if saved_after == 0:
        nn.save({"loader": first.state_dict()}, tmp_path / "c.npz")
    for x, _ in first:
        taken.append(x.data)
        if len(taken) == saved_after:  # after training on `saved_after` batches
            nn.save({"loader": first.state_dict()}, tmp_path / "c.npz")
    same_batches(taken, expected[1])

    nn.manual_seed(123)  # the restarted program's default generator stands elsewhere
    resumed = augmenting_loader(seed, transform_seed)
    resumed.load_state_dict(nn.load(tmp_path / "c.npz")["loader"])
    rest = epoch(resumed) if saved_after < 4 else []
    same_batches(taken[:saved_after] + rest, expected[1])
    same_batches(epoch(resumed), expected[2])


@SEEDS
def test_a_pass_with_random_transforms_left_early_resumes_exactly(
    seed: int | None, transform_seed: int | None
) -> None:
    def run(resume: bool) -> list[np.ndarray]:
        nn.manual_seed(0)
        loader = augmenting_loader(seed, transform_seed)
        for i, _ in enumerate(loader):
            if i == 1:
                break  # e.g. a fixed number of steps per epoch
        if resume:
            state = loader.state_dict()
            nn.manual_seed(7)
            loader = augmenting_loader(seed, transform_seed)
            loader.load_state_dict(state)
        return epoch(loader)

    same_batches(run(True), run(False))


def test_a_training_run_with_augmentation_checkpointed_mid_way_ends_as_a_straight_run(
    tmp_path: Path,
) -> None:
    X = np.random.default_rng(0).random((24, 1, 4, 4))
    y = (X[:, 0, :, :2].sum(axis=(1, 2)) > X[:, 0, :, 2:].sum(axis=(1, 2))).astype(np.int64)

    def build(init: int) -> tuple[Any, Any, Any]:
        model = nn.MLP([16, 8, 2], generator=init)
        optimizer = nn.optim.Adam(model.parameters(), lr=0.01)
        augment = T.Compose([T.RandomHorizontalFlip(generator=2), T.RandomCrop(4, 1, 3)])
        loader = nn.data.DataLoader(
            nn.data.TensorDataset(X, y), 5, shuffle=True, seed=1, transform=augment
        )
        return model, optimizer, loader

    def train(model: Any, optimizer: Any, loader: Any, epochs: int) -> None:
        for _ in range(epochs):
            for x, labels in loader:
                optimizer.zero_grad()
                nn.CrossEntropyLoss()(model(x.reshape(len(labels), -1)), labels).backward()
                optimizer.step()

    straight = build(0)
    train(*straight, 4)
    first = build(0)
    train(*first, 2)
    nn.save(
        {"model": first[0], "optimizer": first[1].state_dict(), "loader": first[2].state_dict()},
        tmp_path / "run.npz",
    )
    resumed = build(1)  # other initial weights
    checkpoint = nn.load(tmp_path / "run.npz")
    resumed[0].load_state_dict(checkpoint["model"])
    resumed[1].load_state_dict(checkpoint["optimizer"])
    resumed[2].load_state_dict(checkpoint["loader"])
    train(*resumed, 2)
    for name, value in straight[0].state_dict().items():
        np.testing.assert_array_equal(resumed[0].state_dict()[name], value, err_msg=name)


def test_loader_transform_errors() -> None:
    data = nn.data.TensorDataset(np.zeros((6, 1, 2, 2)), np.arange(6))
    with pytest.raises(TypeError, match="DataLoader: transform must be callable on a batch"):
        nn.data.DataLoader(data, 2, transform="flip")  # type: ignore[arg-type]
    flipping = nn.data.DataLoader(data, 2, transform=T.RandomHorizontalFlip(generator=0))
    plain = nn.data.DataLoader(data, 2, transform=T.Normalize(0, 1))  # draws nothing
    assert plain.state_dict()["transform"] is None
    with pytest.raises(
        ValueError,
        match=r"the saved loader's transform had no random state, this one's "
        r"\(RandomHorizontalFlip\) has one",
    ):
        flipping.load_state_dict(plain.state_dict())
    with pytest.raises(ValueError, match=r"had a random state, this one's \(Normalize\) has none"):
        plain.load_state_dict(flipping.state_dict())
    old = {"epoch": 0, "batches_yielded": 0, "generator": None}  # saved before transforms
    plain.load_state_dict(old)
    with pytest.raises(ValueError, match="had no random state"):
        flipping.load_state_dict(old)
    state = flipping.state_dict()
    state["transform"] = {"generator": {"bit_generator": "MT19937", "state": {}}}
    with pytest.raises(ValueError, match="transform state does not fit this loader's Random"):
        flipping.load_state_dict(state)


def test_a_loader_whose_generator_does_not_fit_leaves_its_transform_as_it_was() -> None:
    data = nn.data.TensorDataset(np.zeros((6, 1, 2, 2)), np.arange(6))
    loader = nn.data.DataLoader(data, 2, True, seed=0, transform=T.RandomCrop(2, 1, 0))
    before = loader.state_dict()
    other = nn.data.DataLoader(data, 2, True, seed=0, transform=T.RandomCrop(2, 1, 9))
    state = other.state_dict()
    state["generator"] = {"bit_generator": "MT19937", "state": {"key": [], "pos": 0}}
    with pytest.raises(ValueError, match="generator state does not fit this loader's PCG64"):
        loader.load_state_dict(state)
    assert str(loader.state_dict()) == str(before)


# --------------------------------------------------------------------------------------------
# Errors name the transform and the (N, C, H, W) layout
# --------------------------------------------------------------------------------------------

ERRORS = [
    (
        lambda: T.RandomCrop(2)(np.zeros((3, 8, 8))),
        ValueError,
        r"RandomCrop: expected a batch of images \(N, C, H, W\), got shape \(3, 8, 8\); "
        r"for one image \(C, H, W\) pass image\[None\]",
    ),
    (
        lambda: T.RandomHorizontalFlip()([[[[1.0]]]]),
        TypeError,
        r"RandomHorizontalFlip: expected a batch of images \(N, C, H, W\) as a numpy array or "
        r"Tensor, got list",
    ),
    (
        lambda: T.RandomHorizontalFlip()(ag.Tensor(np.zeros((2, 4)))),
        ValueError,
        r"RandomHorizontalFlip: expected a batch of images \(N, C, H, W\), got shape \(2, 4\)$",
    ),
    (
        lambda: T.RandomCrop(9, padding=1)(np.zeros((2, 3, 5, 6))),
        ValueError,
        r"RandomCrop: a 9x9 window does not fit images \(N, C, H, W\) = \(2, 3, 5, 6\) padded "
        r"by \(1, 1\) to 7x8",
    ),
    (lambda: T.RandomCrop(0), ValueError, r"RandomCrop: size must be an int >= 1 or a pair"),
    (lambda: T.RandomCrop((2, 3, 4)), ValueError, r"size must be .* got \(2, 3, 4\)"),
    (lambda: T.RandomCrop(2, padding=-1), ValueError, r"RandomCrop: padding must be an int >= 0"),
    (lambda: T.RandomHorizontalFlip(1.5), ValueError, r"RandomHorizontalFlip: p must be in"),
    (lambda: T.RandomCrop(2, generator="x"), TypeError, r"expected a np.random.Generator"),  # type: ignore[arg-type]
    (
        lambda: T.PCAColorAugmentation()(np.zeros((1, 3, 2, 2))),
        RuntimeError,
        r"PCAColorAugmentation: not fitted; call fit\(train_images\) with the training images "
        r"\(N, C, H, W\) first",
    ),
    (
        lambda: T.PCAColorAugmentation().fit(correlated_colours())(np.zeros((1, 1, 2, 2))),
        ValueError,
        r"PCAColorAugmentation: fitted on images with 3 channels, got images \(N, C, H, W\) = "
        r"\(1, 1, 2, 2\)",
    ),
    (
        lambda: T.PCAColorAugmentation().fit(np.zeros((1, 3, 1, 1))),
        ValueError,
        r"PCAColorAugmentation.fit: needs at least 2 pixels",
    ),
    (
        lambda: T.PCAColorAugmentation().fit(np.full((1, 3, 2, 2), np.nan)),
        ValueError,
        r"PCAColorAugmentation.fit: the images contain NaN or inf",
    ),
    (
        lambda: T.PCAColorAugmentation().fit(correlated_colours())(np.zeros((1, 3, 2, 2), int)),
        TypeError,
        r"PCAColorAugmentation: expected floating images \(N, C, H, W\), got dtype int64 "
        r"\(scale integer images first, e.g. images / 255\)",
    ),
    (lambda: T.PCAColorAugmentation(-1.0), ValueError, r"alpha_std must be >= 0, got -1.0"),
    (
        lambda: T.Normalize([0.5, 0.5, 0.5], [0.2, 0.2, 0.2])(np.zeros((2, 1, 4, 4))),
        ValueError,
        r"Normalize: mean and std have 3 values, but the images \(N, C, H, W\) = \(2, 1, 4, 4\) "
        r"have 1 channels",
    ),
    (
        lambda: T.Normalize(0.5, 0.2)(np.zeros((2, 1, 4, 4), np.uint8)),
        TypeError,
        r"Normalize: expected floating images \(N, C, H, W\), got dtype uint8",
    ),
    (
        lambda: T.Normalize(0.5, 0.2).inverse(np.zeros((4, 4))),
        ValueError,
        r"Normalize.inverse: expected a batch of images \(N, C, H, W\), got shape \(4, 4\)",
    ),
    (lambda: T.Normalize([0, 0], [1, 0]), ValueError, r"Normalize: std must be positive"),
    (lambda: T.Normalize([0, 0], [1, 1, 1]), ValueError, r"mean has 2 values and std 3"),
    (lambda: T.Compose([T.Normalize(0, 1), 3]), TypeError, r"Compose: transform 1 must be"),
    (
        lambda: T.RandomCrop(2).load_state_dict({"seed": 1}),
        ValueError,
        r"RandomCrop.load_state_dict: expected the key 'generator', got \['seed'\]",
    ),
    (
        lambda: T.RandomCrop(2).load_state_dict({"generator": None}),
        ValueError,
        r"RandomCrop.load_state_dict: the saved generator state does not fit this transform's "
        r"PCG64",
    ),
]


@pytest.mark.parametrize(("call", "error", "message"), ERRORS, ids=[m[:40] for *_, m in ERRORS])
def test_errors_name_the_transform_and_the_layout(call: Any, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        call()


# --------------------------------------------------------------------------------------------
# The bundled photo
# --------------------------------------------------------------------------------------------


def test_the_sample_photo_is_a_small_colour_image_in_0_1() -> None:
    photo = nn.datasets.load_sample_photo()
    assert photo.shape == (3, 100, 100) and photo.dtype == np.float64
    assert photo.min() >= 0.0 and photo.max() <= 1.0
    np.testing.assert_array_equal(np.round(photo * 255) / 255, photo)  # 8-bit values
    red, green, blue = photo.mean(axis=(1, 2))
    assert red > green > blue  # a ginger tabby cat
    flipped = T.RandomHorizontalFlip(1.0)(photo[None])[0]
    assert not np.array_equal(flipped, photo)  # no mirror symmetry to hide a broken flip
    assert "CC0" in resources.files("nn.datasets").joinpath("CHELSEA_LICENSE.txt").read_text()


def test_every_bundled_data_file_is_package_data() -> None:
    """A fresh install (not only this checkout) has the photo, the digits and their licences."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["package-data"]["nn.datasets"])
    folder = ROOT / "nn" / "datasets"
    shipped = {p.name for p in folder.iterdir() if p.is_file() and p.suffix != ".py"}
    assert shipped == listed
