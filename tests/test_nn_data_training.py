"""Data (TensorDataset, DataLoader determinism and coverage, random_split), the bundled
digits and toy generators, checkpoints (atomic, pickle refused, corruption detected,
torch interop), and training: fit/evaluate/predict, XOR to zero error, digits to >= 95%."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import autograd_core as ag
import nn

# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


def test_loader_covers_every_sample_once_per_epoch_in_batches() -> None:
    X, y = np.arange(10.0).reshape(10, 1), np.arange(10)
    loader = nn.data.DataLoader(nn.data.TensorDataset(X, y), batch_size=4, shuffle=True, seed=0)
    assert len(loader) == 3
    batches = list(loader)
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    xs, ys = zip(*batches, strict=True)
    assert all(isinstance(x, ag.Tensor) for x in xs)
    assert all(isinstance(b, np.ndarray) and b.dtype == np.int64 for b in ys)
    assert sorted(np.concatenate(ys).tolist()) == list(range(10))
    np.testing.assert_array_equal(np.concatenate([x.data for x in xs]).ravel(), np.concatenate(ys))


def test_loader_is_deterministic_for_a_seed_and_reshuffles_each_epoch() -> None:
    data = nn.data.TensorDataset(np.arange(20))

    def epochs(seed: int) -> list[list[int]]:
        loader = nn.data.DataLoader(data, batch_size=5, shuffle=True, seed=seed)
        return [np.concatenate([b[0] for b in loader]).tolist() for _ in range(3)]

    assert epochs(1) == epochs(1)
    assert epochs(1) != epochs(2)
    first, second, _ = epochs(1)
    assert first != second


def test_loader_options_and_errors() -> None:
    data = nn.data.TensorDataset(np.zeros((10, 2)), np.arange(10))
    assert len(nn.data.DataLoader(data, batch_size=4, drop_last=True)) == 2
    assert [len(b[1]) for b in nn.data.DataLoader(data, batch_size=4, drop_last=True)] == [4, 4]
    assert [b[1].tolist() for b in nn.data.DataLoader(data, batch_size=5)] == [
        [0, 1, 2, 3, 4],
        [5, 6, 7, 8, 9],
    ]
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        nn.data.DataLoader(data, batch_size=0)
    with pytest.raises(ValueError, match="first dimension"):
        nn.data.TensorDataset(np.zeros(3), np.zeros(4))


def test_loader_collates_a_plain_list_of_samples() -> None:
    samples = [(np.full(2, float(i)), i) for i in range(5)]
    x, y = next(iter(nn.data.DataLoader(samples, batch_size=3)))
    assert isinstance(x, ag.Tensor) and x.shape == (3, 2)
    assert y.tolist() == [0, 1, 2]


def test_random_split_partitions_the_dataset() -> None:
    data = nn.data.TensorDataset(np.arange(10))
    a, b = nn.data.random_split(data, [7, 3], seed=0)
    got = sorted([int(a[i][0]) for i in range(7)] + [int(b[i][0]) for i in range(3)])
    assert got == list(range(10))
    assert [len(s) for s in nn.data.random_split(data, [0.5, 0.5], seed=0)] == [5, 5]
    with pytest.raises(ValueError, match="add up"):
        nn.data.random_split(data, [4, 4])


def test_bundled_digits_are_the_uci_images() -> None:
    X, y = nn.datasets.load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64 and y.dtype == np.int64
    assert X.min() == 0 and X.max() == 16 and sorted(set(y.tolist())) == list(range(10))
    assert np.bincount(y).min() >= 170
    assert nn.datasets.load_digits(normalize=True)[0].max() == 1.0
    assert (Path(nn.datasets.__file__).parent / "DIGITS_LICENSE.txt").exists()


@pytest.mark.parametrize("name", ["make_xor", "make_moons", "make_circles", "make_spirals"])
def test_toy_generators_are_seeded_and_typed(name: str) -> None:
    make = getattr(nn.datasets, name)
    X, y = make(40, noise=0.1, seed=3)
    assert X.shape == (40, 2) and X.dtype == np.float64 and y.dtype == np.int64
    assert set(y.tolist()) == {0, 1}
    np.testing.assert_array_equal(X, make(40, noise=0.1, seed=3)[0])


def test_make_xor_without_noise_is_the_truth_table() -> None:
    X, y = nn.datasets.make_xor()
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]] and y.tolist() == [0, 1, 1, 0]


# --------------------------------------------------------------------------------------------
# Checkpoints
# --------------------------------------------------------------------------------------------


def test_save_and_load_round_trip_a_model(tmp_path: Path) -> None:
    model = nn.MLP([4, 6, 3], norm="batch", generator=0)
    path = tmp_path / "model.npz"
    nn.save(model, path)
    state = nn.load(path)
    assert list(state) == list(model.state_dict())
    assert state["1.num_batches_tracked"].dtype == np.int64
    other = nn.MLP([4, 6, 3], norm="batch", generator=1)
    other.load_state_dict(state)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(other.state_dict()[key], value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


def test_truncated_or_corrupted_checkpoints_raise_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "model.npz"
    nn.save(nn.MLP([8, 16, 4]), path)
    data = path.read_bytes()
    (tmp_path / "short.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(nn.CheckpointError, match=r"short\.npz is not a readable checkpoint"):
        nn.load(tmp_path / "short.npz")
    flipped = bytearray(data)
    flipped[200] ^= 0xFF
    (tmp_path / "flipped.npz").write_bytes(bytes(flipped))
    with pytest.raises(ValueError, match="not a readable checkpoint"):
        nn.load(tmp_path / "flipped.npz")
    with pytest.raises(FileNotFoundError):
        nn.load(tmp_path / "absent.npz")


def test_pickled_objects_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.npz"
    np.savez(path, payload=np.array([{"run": "code"}], dtype=object))
    with pytest.raises(ValueError, match="pickled objects"):
        nn.load(path)
    import pickle

    (tmp_path / "plain.pkl").write_bytes(pickle.dumps({"w": np.ones(2)}))
    with pytest.raises(ValueError, match="not a readable checkpoint"):
        nn.load(tmp_path / "plain.pkl")
    with pytest.raises(TypeError, match="only numeric arrays"):
        nn.save({"w": np.array(["text"])}, tmp_path / "text.npz")


def test_saved_mlp_loads_into_torch_and_gives_the_same_outputs(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    model = nn.MLP([64, 32, 10], activation="gelu", generator=0)
    nn.save(model, tmp_path / "mlp.npz")  # keys 0.weight, 0.bias, 2.weight, 2.bias
    theirs = torch.nn.Sequential(
        torch.nn.Linear(64, 32, dtype=torch.float64),
        torch.nn.GELU(),
        torch.nn.Linear(32, 10, dtype=torch.float64),
    )
    theirs.load_state_dict(
        {k: torch.from_numpy(v) for k, v in nn.load(tmp_path / "mlp.npz").items()}
    )
    x = nn.datasets.load_digits()[0][:20]
    np.testing.assert_allclose(
        model(ag.Tensor(x)).data, theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-12
    )
    back = nn.MLP([64, 32, 10], activation="gelu", generator=1)
    back.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})  # and back
    np.testing.assert_array_equal(back(ag.Tensor(x)).data, model(ag.Tensor(x)).data)


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------


def test_xor_is_learned_to_zero_error() -> None:
    X, y = nn.datasets.make_xor()
    model = nn.MLP([2, 8, 1], activation="tanh", generator=0)
    optimizer = nn.optim.Adam(model.parameters(), lr=0.05)
    loss_fn = nn.BCEWithLogitsLoss()
    target = y.reshape(-1, 1).astype(np.float64)
    for _ in range(300):
        loss = loss_fn(model(ag.Tensor(X)), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    predicted = (nn.predict(model, X) > 0).astype(int).ravel()
    assert predicted.tolist() == [0, 1, 1, 0]
    assert loss.item() < 0.05


def digits_split(seed: int = 0) -> tuple[np.ndarray, ...]:
    X, y = nn.datasets.load_digits()
    order = np.random.default_rng(seed).permutation(len(X))
    test, train = order[:360], order[360:]
    return X[train], y[train], X[test], y[test]


def test_adam_trains_mlp_64_64_10_on_digits_to_95_percent_in_20_epochs() -> None:
    X_train, y_train, X_test, y_test = digits_split()
    nn.manual_seed(0)
    model = nn.MLP([64, 64, 10])
    loader = nn.data.DataLoader(
        nn.data.TensorDataset(X_train / 16, y_train), batch_size=32, shuffle=True, seed=0
    )
    test_loader = nn.data.DataLoader(nn.data.TensorDataset(X_test / 16, y_test), batch_size=128)
    history = nn.fit(
        model,
        nn.CrossEntropyLoss(),
        nn.optim.Adam(model.parameters()),
        loader,
        epochs=20,
        val_loader=test_loader,
        progress=False,
    )
    assert len(history) == 20 and history["loss"][-1] < history["loss"][0]
    assert history["val_accuracy"][-1] >= 0.95
    accuracy = np.mean(nn.predict(model, X_test / 16).argmax(axis=1) == y_test)
    assert accuracy == pytest.approx(history["val_accuracy"][-1])
    scores = nn.evaluate(model, test_loader, nn.CrossEntropyLoss())
    assert scores["accuracy"] == pytest.approx(accuracy)
    assert scores["loss"] == pytest.approx(history["val_loss"][-1])


def test_fit_with_scheduler_early_stopping_and_plot(tmp_path: Path) -> None:
    X, y = nn.datasets.make_moons(64, noise=0.1, seed=0)
    loader = nn.data.DataLoader(nn.data.TensorDataset(X, y), batch_size=16, shuffle=True, seed=0)
    model = nn.MLP([2, 16, 2], generator=0)
    optimizer = nn.optim.SGD(model.parameters(), lr=0.0)  # no progress: stops early
    scheduler = nn.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    history = nn.fit(
        model,
        nn.CrossEntropyLoss(),
        optimizer,
        loader,
        epochs=30,
        val_loader=loader,
        scheduler=scheduler,
        early_stopping=nn.EarlyStopping(patience=2, min_delta=1e-9),
        progress=False,
    )
    assert len(history) == 3
    assert set(history.keys()) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}
    figure = history.plot(tmp_path / "curves.png")
    assert (tmp_path / "curves.png").stat().st_size > 1000
    assert len(figure.axes) == 2


def test_importing_nn_loads_neither_tqdm_nor_matplotlib() -> None:
    code = "import sys, nn; print('tqdm' in sys.modules, 'matplotlib' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="."
    )
    assert out.stdout.split() == ["False", "False"]


def test_demo_trains_digits_and_writes_the_curves(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "demo.py", "--epochs", "3", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert "test accuracy" in out.stdout
    assert (tmp_path / "digits_curves.png").exists()


def test_cnn_demo_reaches_98_percent_and_writes_its_pictures(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "demo.py", "--model", "cnn", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    accuracy = float(re.search(r"test accuracy ([\d.]+)%", out.stdout).group(1))  # type: ignore[union-attr]
    assert accuracy >= 98.0, out.stdout
    for name in ["digits_cnn_curves", "digits_cnn_graph", "digits_cnn_feature_maps"]:
        assert (tmp_path / f"{name}.png").exists(), name


def test_fit_steps_reduce_lr_on_plateau_on_the_validation_loss() -> None:
    X, y = nn.datasets.make_moons(64, noise=0.1, seed=0)
    model = nn.MLP([2, 4, 2])
    unused = nn.Parameter(np.zeros(1))  # the model never changes: its loss plateaus
    optimizer = nn.optim.SGD([unused], lr=1.0)
    scheduler = nn.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=0)
    loader = nn.data.DataLoader(nn.data.TensorDataset(X, y), batch_size=32)
    history = nn.fit(
        model, nn.CrossEntropyLoss(), optimizer, loader, epochs=3, val_loader=loader,
        scheduler=scheduler, progress=False,
    )  # fmt: skip
    assert history["lr"] == [1.0, 1.0, 0.5]  # the first epoch sets the best loss
