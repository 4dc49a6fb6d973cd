"""Checkpoints that resume: `nn.save`/`nn.load` of nested state (types kept, never pickle,
atomic, umask and symlinks honoured), optimizer, scheduler and loader state dicts that
continue bit for bit, `load_state_dict` that checks everything before writing anything,
`Module.to`/`float`/`double`, `ModuleDict`, and a training run stopped at epoch 3 and
resumed from one file that ends exactly where a straight run does."""

from __future__ import annotations

import math
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import autograd_core as ag
import nn

sched = nn.optim.lr_scheduler


def assert_same(a: Any, b: Any, where: str = "") -> None:
    """Equal values of equal types, all the way down (arrays: same dtype, shape and bits;
    any dict equals any dict: a checkpoint gives back an OrderedDict as a dict)."""
    if isinstance(a, dict) and isinstance(b, dict):
        assert list(a) == list(b), where
        for key in a:
            assert_same(a[key], b[key], f"{where}/{key}")
        return
    assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}/{i}")
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b), where
    else:
        assert a == b, where
        if isinstance(a, float):
            assert math.copysign(1, a) == math.copysign(1, b), where  # -0.0 stays -0.0


# --------------------------------------------------------------------------------------------
# nn.save / nn.load
# --------------------------------------------------------------------------------------------


def test_a_nested_checkpoint_round_trips_every_type(tmp_path: Path) -> None:
    model = nn.MLP([3, 4, 2], norm="batch", generator=0)
    opt = nn.optim.Adam(model.parameters(), lr=0.01, amsgrad=True)
    model(ag.Tensor(np.ones((2, 3)))).sum().backward()
    opt.step()
    checkpoint = {
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "epoch": 3,
        "plain": [None, True, False, 0, -7, 2**100, 1.5, -0.0, math.inf, -math.inf, "text"],
        "nested": {"tuple": (1, (2.0, "x")), "empty": {}, "none": None, 7: [[], ()]},
        "numpy scalars": [np.float32(1.25), np.int64(-3), np.bool_(True)],
        "arrays": [np.arange(6, dtype=np.int16).reshape(2, 3), np.zeros((0, 2)), np.float32(2)],
        "nan": math.nan,
    }
    nn.save(checkpoint, tmp_path / "run.npz")
    back = nn.load(tmp_path / "run.npz")
    assert_same(back, checkpoint)
    assert list(back["optimizer"]["state"]) == [0, 1, 2, 3, 4, 5]  # int keys, as PyTorch
    # the arrays are ordinary .npz entries named by their path
    files = np.load(tmp_path / "run.npz").files
    assert "model/0.weight" in files and "optimizer/state/0/exp_avg" in files


def test_a_flat_state_dict_is_a_plain_npz(tmp_path: Path) -> None:
    model = nn.MLP([3, 4, 2], generator=0)
    nn.save(model, tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as data:
        assert data.files == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert_same(nn.load(tmp_path / "m.npz"), dict(model.state_dict()))
    nn.save({"w": ag.Tensor([1.0, 2.0])}, tmp_path / "t.npz")  # a Tensor comes back an array
    assert_same(nn.load(tmp_path / "t.npz"), {"w": np.array([1.0, 2.0])})


def test_keys_that_are_numpys_keyword_names_are_saved(tmp_path: Path) -> None:
    # np.savez(file, allow_pickle=..., **arrays) would clash with these keys
    state = {"file": np.ones(2), "allow_pickle": np.zeros(1), "args": np.arange(3)}
    nn.save(state, tmp_path / "flat.npz")
    assert_same(nn.load(tmp_path / "flat.npz"), state)
    nested = {"file": {"file": np.ones(1)}, "kwds": 1}
    nn.save(nested, tmp_path / "nested.npz")
    assert_same(nn.load(tmp_path / "nested.npz"), nested)


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_a_new_file_gets_the_permissions_the_umask_gives(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        nn.save({"w": np.ones(2)}, tmp_path / "m.npz")
    finally:
        os.umask(old)
    assert (tmp_path / "m.npz").stat().st_mode & 0o777 == 0o666 & ~umask


def test_overwriting_keeps_the_files_own_permissions(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    nn.save({"w": np.ones(2)}, path)
    path.chmod(0o640)
    nn.save({"w": np.zeros(2)}, path)
    assert path.stat().st_mode & 0o777 == 0o640
    np.testing.assert_array_equal(nn.load(path)["w"], np.zeros(2))


def test_saving_through_a_symlink_writes_its_target(tmp_path: Path) -> None:
    (tmp_path / "store").mkdir()
    target = tmp_path / "store" / "real.npz"
    nn.save({"w": np.ones(2)}, target)
    link = tmp_path / "latest.npz"
    link.symlink_to(target)
    nn.save({"w": np.full(2, 7.0)}, link)
    assert link.is_symlink() and link.resolve() == target.resolve()
    np.testing.assert_array_equal(nn.load(target)["w"], [7.0, 7.0])
    dangling = tmp_path / "next.npz"
    dangling.symlink_to(tmp_path / "store" / "new.npz")  # a link to a file not yet written
    nn.save({"w": np.ones(1)}, dangling)
    assert dangling.is_symlink() and (tmp_path / "store" / "new.npz").is_file()
    assert sorted(p.name for p in (tmp_path / "store").iterdir()) == ["new.npz", "real.npz"]


def test_a_failed_save_leaves_the_old_file_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "model.npz"
    nn.save({"w": np.ones(3)}, path)

    def crash(file: Any, array: np.ndarray, **kwargs: Any) -> None:  # half an entry, then fails
        file.write(b"\x93NUMPY half an array")
        raise OSError("disk full")

    monkeypatch.setattr(np.lib.format, "write_array", crash)
    with pytest.raises(OSError, match="disk full"):
        nn.save({"w": np.zeros(3)}, path)
    monkeypatch.undo()
    np.testing.assert_array_equal(nn.load(path)["w"], np.ones(3))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"w": np.array(["text"])}, "'w' has dtype <U4; only numeric arrays"),
        ({"a": {"b": np.array([1j])}}, "a/b has dtype complex128"),
        ({"a": [{1, 2}]}, "a/0 is a set"),
        ({"a": {(1, 2): 3}}, r"a has the key \(1, 2\)"),
        ({"a": {True: 3}}, "a has the key True"),
        ({"a": object()}, "a is a object"),
        ([1, 2], "expected a Module, a state dict or a dict of them, got list"),
    ],
)
def test_what_a_checkpoint_cannot_hold_is_refused_by_name(
    tmp_path: Path, value: Any, message: str
) -> None:
    with pytest.raises(TypeError, match=message):
        nn.save(value, tmp_path / "bad.npz")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        (b"{not json", "the manifest is not JSON"),
        (b'{"version": 1}', "the manifest has no root"),
        (b'{"version": 99, "root": 1}', "unknown checkpoint version 99"),
        (
            b'{"version": 1, "root": {"array": "absent"}}',
            "the manifest names the missing entry 'absent'",
        ),
        (b'{"version": 1, "root": {"pickle": "x"}}', "malformed manifest node"),
        (b'{"version": 1, "root": {"dict": [[1.5, 2]]}}', "malformed dict key 1.5"),
    ],
)
def test_a_damaged_manifest_raises_a_checkpoint_error(
    tmp_path: Path, manifest: bytes, message: str
) -> None:
    path = tmp_path / "bad.npz"
    np.savez(path, __nn_checkpoint__=np.frombuffer(manifest, np.uint8), w=np.ones(2))
    with pytest.raises(nn.CheckpointError, match=f"bad.npz is a damaged checkpoint: {message}"):
        nn.load(path)


def test_a_checkpoint_is_a_zip_of_npy_files_without_pickles(tmp_path: Path) -> None:
    nn.save({"model": nn.MLP([2, 3, 1]).state_dict(), "epoch": 1}, tmp_path / "c.npz")
    with zipfile.ZipFile(tmp_path / "c.npz") as archive:
        names = archive.namelist()
        assert all(name.endswith(".npy") for name in names)
        assert b"pickle" not in b"".join(archive.read(name)[:128] for name in names)


# --------------------------------------------------------------------------------------------
# Optimizers
# --------------------------------------------------------------------------------------------

OPTIMIZERS: dict[str, Callable[[Any], nn.optim.Optimizer]] = {
    "sgd_momentum": lambda ps: nn.optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=1e-3),
    "sgd_nesterov": lambda ps: nn.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
    "adam": lambda ps: nn.optim.Adam(ps, lr=0.01),
    "adam_amsgrad": lambda ps: nn.optim.Adam(ps, lr=0.01, amsgrad=True, weight_decay=0.1),
    "adamw": lambda ps: nn.optim.AdamW(ps, lr=0.01),
    "rmsprop": lambda ps: nn.optim.RMSprop(ps, lr=0.01, centered=True, momentum=0.5),
    "adagrad": lambda ps: nn.optim.Adagrad(ps, lr=0.1, lr_decay=0.01),
}


def regression_step(model: nn.Module, opt: nn.optim.Optimizer, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal((8, 3)), rng.standard_normal((8, 1))
    opt.zero_grad()
    nn.functional.mse_loss(model(ag.Tensor(x)), y).backward()
    opt.step()


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimizer_resumes_bit_identically_through_a_file(name: str, tmp_path: Path) -> None:
    make = OPTIMIZERS[name]
    straight = nn.MLP([3, 5, 1], activation="tanh", generator=1)
    opt = make(straight.parameters())
    for step in range(6):
        regression_step(straight, opt, step)

    first = nn.MLP([3, 5, 1], activation="tanh", generator=1)
    first_opt = make(first.parameters())
    for step in range(3):
        regression_step(first, first_opt, step)
    nn.save({"model": first, "optimizer": first_opt.state_dict()}, tmp_path / "c.npz")
    checkpoint = nn.load(tmp_path / "c.npz")
    resumed = nn.MLP([3, 5, 1], activation="tanh", generator=2)  # other weights until loaded
    resumed_opt = make(resumed.parameters())
    resumed.load_state_dict(checkpoint["model"])
    resumed_opt.load_state_dict(checkpoint["optimizer"])
    for step in range(3, 6):
        regression_step(resumed, resumed_opt, step)

    assert_same(resumed.state_dict(), straight.state_dict())
    assert_same(resumed_opt.state_dict(), opt.state_dict())


def test_optimizer_load_checks_everything_before_changing_anything() -> None:
    model = nn.MLP([3, 5, 1], generator=0)
    opt = nn.optim.Adam(model.parameters(), lr=0.01)
    regression_step(model, opt, 0)
    good = opt.state_dict()
    other_model = nn.MLP([3, 5, 1], generator=1)
    other = nn.optim.Adam(other_model.parameters(), lr=0.5)
    regression_step(other_model, other, 1)
    before = other.state_dict()

    def broken(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        state = opt.state_dict()
        change(state)
        return state

    cases = {
        "parameters, this optimizer": broken(lambda s: s["param_groups"][0]["params"].pop()),
        "has shape \\(5,\\), the parameter \\(5, 3\\)": broken(
            lambda s: s["state"][0].update(exp_avg=np.zeros(5))
        ),
        "has dtype <U4, not a numeric one": broken(
            lambda s: s["state"][3].update(exp_avg=np.array(["0", "oops"]))
        ),
        "state for parameter 9, which no group lists": broken(
            lambda s: s["state"].update({9: {"step": 1}})
        ),
        "lacks \\['betas'\\]": broken(lambda s: s["param_groups"][0].pop("betas")),
        "is a str, not an array": broken(lambda s: s["state"][1].update(step="1")),
        'expected \\{"state", "param_groups"\\}': {"param_groups": []},
    }
    for message, state in cases.items():
        with pytest.raises(ValueError, match=message):
            other.load_state_dict(state)
        assert_same(other.state_dict(), before)
    other.load_state_dict(good)
    assert_same(other.state_dict(), good)


def test_optimizer_state_maps_by_position_and_casts_to_the_parameters_dtype() -> None:
    a, b = nn.Parameter(np.ones(2, np.float32)), nn.Parameter(np.ones(3))
    opt = nn.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9)
    (a.sum() + b.sum()).backward()
    opt.step()
    state = opt.state_dict()
    assert [g["params"] for g in state["param_groups"]] == [[0], [1]]
    state["state"][0]["momentum_buffer"] = np.full(2, 3.0)  # float64 for a float32 parameter
    c, d = nn.Parameter(np.zeros(2, np.float32)), nn.Parameter(np.zeros(3))
    fresh = nn.optim.SGD([{"params": [c]}, {"params": [d]}], lr=0.1, momentum=0.9)
    fresh.load_state_dict(state)
    assert fresh.state[id(c)]["momentum_buffer"].dtype == np.float32
    assert fresh.param_groups[1]["lr"] == 0.5 and fresh.param_groups[1]["params"] == [d]


# --------------------------------------------------------------------------------------------
# Schedulers
# --------------------------------------------------------------------------------------------

SCHEDULERS: dict[str, tuple[str, Callable[[nn.optim.Optimizer], Any]]] = {
    "step": ("sgd", lambda o: sched.StepLR(o, step_size=3, gamma=0.5)),
    "exponential": ("sgd", lambda o: sched.ExponentialLR(o, gamma=0.8)),
    "cosine": ("sgd", lambda o: sched.CosineAnnealingLR(o, T_max=7, eta_min=0.01)),
    "lambda": ("sgd", lambda o: sched.LambdaLR(o, lambda epoch: 1 / (1 + epoch))),
    "onecycle_sgd": ("sgd", lambda o: sched.OneCycleLR(o, max_lr=1.0, total_steps=12)),
    "onecycle_adam": (
        "adam",
        lambda o: sched.OneCycleLR(o, max_lr=0.1, total_steps=12, three_phase=True),
    ),
    "plateau": ("sgd", lambda o: sched.ReduceLROnPlateau(o, patience=1, cooldown=1)),
}
METRICS = [5.0, 4.0, 4.0, 4.5, 4.2, 3.0, 3.1, 3.2, 3.3, 2.0, 2.5]


def scheduled_run(name: str, stop: int | None, tmp_path: Path) -> list[tuple[Any, ...]]:
    """(lr, momentum or betas) after each of 11 steps; with `stop`, everything is saved there
    and rebuilt before going on."""
    kind, make = SCHEDULERS[name]

    def build() -> tuple[nn.optim.Optimizer, Any]:
        p = nn.Parameter([1.0, -1.0])
        opt = (
            nn.optim.SGD([p], lr=0.3, momentum=0.9) if kind == "sgd" else nn.optim.Adam([p], lr=0.3)
        )
        return opt, make(opt)

    opt, scheduler = build()
    seen = []
    for step, metric in enumerate(METRICS):
        if step == stop:
            nn.save(
                {"optimizer": opt.state_dict(), "scheduler": scheduler.state_dict()},
                tmp_path / "s.npz",
            )
            opt, scheduler = build()
            checkpoint = nn.load(tmp_path / "s.npz")
            opt.load_state_dict(checkpoint["optimizer"])
            scheduler.load_state_dict(checkpoint["scheduler"])
        opt.step()
        scheduler.step(metric) if name == "plateau" else scheduler.step()
        group = opt.param_groups[0]
        seen.append(
            (scheduler.get_last_lr(), group["lr"], group.get("momentum"), group.get("betas"))
        )
    return seen


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_every_scheduler_resumes_through_a_file(name: str, tmp_path: Path) -> None:
    straight = scheduled_run(name, None, tmp_path)
    assert len({str(s[0]) for s in straight}) > 2  # the schedule does move
    for stop in (1, 4):
        assert scheduled_run(name, stop, tmp_path) == straight


def test_scheduler_load_refuses_another_schedulers_state() -> None:
    opt = nn.optim.SGD([nn.Parameter([1.0])], lr=0.1)
    step = sched.StepLR(opt, step_size=2)
    cosine = sched.CosineAnnealingLR(opt, T_max=3)
    with pytest.raises(ValueError, match=r"missing keys \['T_max', 'eta_min'\]"):
        cosine.load_state_dict(step.state_dict())
    state = step.state_dict()
    state["base_lrs"] = [0.1, 0.1]
    with pytest.raises(ValueError, match="do not match the optimizer's 1 param group"):
        step.load_state_dict(state)


def test_lambda_lr_stores_callable_objects_attributes_but_not_functions() -> None:
    class Warmup:
        def __init__(self, steps: int) -> None:
            self.steps = steps

        def __call__(self, epoch: int) -> float:
            return min(1.0, (epoch + 1) / self.steps)

    a, b = nn.Parameter([1.0]), nn.Parameter([1.0])
    opt = nn.optim.SGD([{"params": [a]}, {"params": [b]}], lr=1.0)
    scheduler = sched.LambdaLR(opt, [Warmup(4), lambda epoch: 0.5**epoch])
    assert scheduler.get_last_lr() == [0.25, 1.0]
    state = scheduler.state_dict()
    assert state["lr_lambdas"] == [{"steps": 4}, None]
    state["lr_lambdas"][0]["steps"] = 2
    fresh = sched.LambdaLR(opt, [Warmup(4), lambda epoch: 0.5**epoch])
    fresh.load_state_dict(state)
    assert fresh.lr_lambdas[0].steps == 2  # type: ignore[attr-defined]
    fresh.step()
    assert fresh.get_last_lr() == [1.0, 0.5]
    with pytest.raises(ValueError, match="expected 2 lr_lambdas"):
        sched.LambdaLR(opt, [lambda e: 1.0])


def test_reduce_lr_on_plateau_waits_patience_then_cools_down() -> None:
    opt = nn.optim.SGD([nn.Parameter([1.0])], lr=1.0)
    plateau = sched.ReduceLROnPlateau(opt, factor=0.5, patience=2, cooldown=1, min_lr=0.2)
    lrs = []
    for metric in [1.0] * 7 + [0.5] * 9:
        plateau.step(metric)
        lrs.append(plateau.get_last_lr()[0])
    # 3 bad epochs > patience: halve; the next epoch is cooldown (not counted); a new best
    # resets the count; the last cut stops at min_lr
    assert lrs == [1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.2, 0.2]
    maximizing = sched.ReduceLROnPlateau(opt, mode="max", threshold=0.1, threshold_mode="abs")
    maximizing.step(1.0)
    maximizing.step(1.05)  # not better by more than 0.1
    assert maximizing.best == 1.0 and maximizing.num_bad_epochs == 1
    with pytest.raises(ValueError, match="factor must be < 1"):
        sched.ReduceLROnPlateau(opt, factor=1.0)


def test_one_cycle_goes_up_to_max_lr_and_down_with_momentum_the_other_way() -> None:
    opt = nn.optim.SGD([nn.Parameter([1.0])], lr=0.0, momentum=0.9)
    one = sched.OneCycleLR(opt, max_lr=2.0, epochs=2, steps_per_epoch=5, anneal_strategy="linear")
    lrs, momenta = [one.get_last_lr()[0]], [opt.param_groups[0]["momentum"]]
    for _ in range(10):
        opt.step()
        one.step()
        lrs.append(one.get_last_lr()[0])
        momenta.append(opt.param_groups[0]["momentum"])
    assert lrs[0] == pytest.approx(2.0 / 25) and momenta[0] == pytest.approx(0.95)
    assert lrs[2] == pytest.approx(2.0) and momenta[2] == pytest.approx(0.85)  # 0.3 * 10 - 1
    assert lrs[9] == pytest.approx(2.0 / 25 / 1e4) and momenta[9] == pytest.approx(0.95)
    with pytest.raises(ValueError, match="stepped 11 times, but total_steps is 10"):
        one.step()
    with pytest.raises(ValueError, match="Adagrad has neither momentum nor betas"):
        sched.OneCycleLR(nn.optim.Adagrad([nn.Parameter([1.0])]), max_lr=1.0, total_steps=3)
    with pytest.raises(ValueError, match="either total_steps or both epochs"):
        sched.OneCycleLR(opt, max_lr=1.0, epochs=3)


# --------------------------------------------------------------------------------------------
# Modules: load_state_dict checks, to(dtype), ModuleDict
# --------------------------------------------------------------------------------------------


def batchnorm_model() -> nn.Module:
    model = nn.MLP([3, 4, 2], norm="batch", generator=0)
    model(ag.Tensor(np.random.default_rng(0).standard_normal((5, 3))))  # moves the statistics
    return model


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("0.bias", np.array(["0", "oops", "1", "2"]), r"dtype <U4 \(shape \(4,\)\) .* not numeric"),
        ("0.bias", [1, None, 2, 3], "dtype object"),
        ("0.bias", [[1.0, 2.0], [3.0]], "cannot convert list"),
        ("1.num_batches_tracked", np.array(np.nan), "NaN or inf in an integer buffer"),
        ("1.num_batches_tracked", np.array(np.inf), "NaN or inf in an integer buffer"),
        ("1.num_batches_tracked", np.array(2.5), "fractions in an integer buffer"),
        ("1.num_batches_tracked", np.array(2.0**63), r"out of the range \[-9223372036854775808"),
        ("1.num_batches_tracked", np.array(2**64 - 1, np.uint64), "out of the range"),
        ("1.running_var", np.array([1, 2, 3, 4j]), "dtype complex128"),
        ("0.weight", np.zeros((3, 4)), r"shape \(3, 4\) in the state dict, \(4, 3\) in the model"),
    ],
)
def test_a_failing_load_names_the_problem_and_changes_nothing(
    key: str, value: Any, message: str
) -> None:
    model = batchnorm_model()
    before = model.state_dict()
    state = dict(before)
    state["0.weight"] = np.zeros((4, 3))  # valid, must not be applied
    state[key] = value
    with pytest.raises(RuntimeError, match=f"{key}: .*{message}"):
        model.load_state_dict(state)
    assert_same(dict(model.state_dict()), dict(before))


def test_load_checks_casts_into_float32_and_accepts_integral_floats() -> None:
    model = batchnorm_model().float()
    state = model.state_dict()
    state["1.running_mean"] = np.array([1e300, 0, 0, 0])  # inf in float32
    with pytest.raises(
        RuntimeError, match=r"1.running_mean: float64 value\(s\) .* would become inf"
    ):
        model.load_state_dict(state)
    state = model.state_dict()
    state["1.num_batches_tracked"] = np.array(7.0)  # integral: fine
    state["0.bias"] = np.array([1, 2, 3, 4])  # ints into floats: fine
    model.load_state_dict(state)
    assert model.layers[1].num_batches_tracked == 7
    assert model.layers[1].num_batches_tracked.dtype == np.int64


def test_to_float_and_double_convert_in_place_and_keep_the_optimizer_attached() -> None:
    model = batchnorm_model()
    params = list(model.parameters())
    opt = nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    (model(ag.Tensor(np.eye(3))) ** 2).sum().backward()
    assert model.float() is model
    assert [id(p) for p in model.parameters()] == [id(p) for p in params]
    assert all(p.dtype == np.float32 and p.grad.dtype == np.float32 for p in params)
    bn = model.layers[1]
    assert bn.running_mean.dtype == np.float32 and bn.running_var.dtype == np.float32
    assert bn.num_batches_tracked.dtype == np.int64  # integer buffers are left alone
    before = {name: p.data.copy() for name, p in model.named_parameters()}
    opt.step()  # the optimizer still holds the converted parameters
    for name, p in model.named_parameters():
        assert p.dtype == np.float32
        assert name == "0.bias" or not np.array_equal(p.data, before[name])  # BN: 0 grad
    out = model(ag.Tensor(np.ones((2, 3), np.float32)))
    assert out.dtype == np.float32
    assert model.double() is model and all(p.dtype == np.float64 for p in params)
    assert model.to("cpu") is model and model.to(np.float32).layers[0].weight.dtype == np.float32
    for bad in (np.int32, None, "cuda"):
        with pytest.raises(TypeError, match="expected a floating dtype"):
            model.to(bad)


def test_module_dict_is_a_dict_of_registered_modules() -> None:
    heads = nn.ModuleDict({"cls": nn.Linear(4, 3), "reg": nn.Linear(4, 1)})
    assert len(heads) == 2 and list(heads) == ["cls", "reg"] and "cls" in heads
    assert list(heads.state_dict()) == ["cls.weight", "cls.bias", "reg.weight", "reg.bias"]
    assert len(list(heads.parameters())) == 4
    heads["extra"] = nn.Linear(4, 2)
    heads.update([("reg", nn.Linear(4, 5))])  # replaces, keeping its place
    assert list(heads.keys()) == ["cls", "reg", "extra"] and heads["reg"].out_features == 5
    assert isinstance(heads.pop("extra"), nn.Linear) and "extra" not in heads
    del heads["cls"]
    assert list(heads.state_dict()) == ["reg.weight", "reg.bias"]
    with pytest.raises(KeyError, match="no module 'cls'"):
        heads["cls"]
    with pytest.raises(KeyError, match="attribute 'train' already exists"):
        heads["train"] = nn.Linear(1, 1)
    with pytest.raises(TypeError, match="element 0 should be a"):
        nn.ModuleDict(["cls"])  # type: ignore[list-item]
    heads.clear()
    assert len(heads) == 0 and list(heads.parameters()) == []
    model = nn.Module()
    model.heads = nn.ModuleDict({"a": nn.Linear(2, 2)})
    assert list(model.state_dict()) == ["heads.a.weight", "heads.a.bias"]
    assert "(heads): ModuleDict(\n    (a): Linear(" in repr(model)


def test_module_dict_state_loads_into_torch() -> None:
    torch = pytest.importorskip("torch")
    ours = nn.ModuleDict({"enc": nn.Linear(3, 2), "dec": nn.Linear(2, 3)})
    theirs = torch.nn.ModuleDict(
        {"enc": torch.nn.Linear(3, 2).double(), "dec": torch.nn.Linear(2, 3).double()}
    )
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    assert list(theirs.state_dict()) == list(ours.state_dict())


# --------------------------------------------------------------------------------------------
# DataLoader
# --------------------------------------------------------------------------------------------


def order(loader: nn.data.DataLoader) -> list[int]:
    return [int(i) for batch in loader for i in batch[1]]


def test_a_loaders_state_resumes_the_shuffle_at_an_epoch_boundary(tmp_path: Path) -> None:
    data = nn.data.TensorDataset(np.zeros((10, 1)), np.arange(10))
    straight = nn.data.DataLoader(data, batch_size=3, shuffle=True, seed=0)
    epochs = [order(straight) for _ in range(5)]
    first = nn.data.DataLoader(data, batch_size=3, shuffle=True, seed=0)
    assert [order(first) for _ in range(2)] == epochs[:2]
    nn.save({"loader": first.state_dict()}, tmp_path / "c.npz")
    fresh = nn.data.DataLoader(data, batch_size=3, shuffle=True, seed=0)
    assert order(nn.data.DataLoader(data, batch_size=3, shuffle=True, seed=0)) != epochs[2]
    fresh.load_state_dict(nn.load(tmp_path / "c.npz")["loader"])
    assert fresh.state_dict()["epoch"] == 2
    assert [order(fresh) for _ in range(3)] == epochs[2:]


def test_a_loader_saved_mid_pass_resumes_with_the_next_batch() -> None:
    data = nn.data.TensorDataset(np.zeros((10, 1)), np.arange(10))
    straight = nn.data.DataLoader(data, batch_size=3, shuffle=True, seed=4)
    batches = [[int(i) for i in b[1]] for _ in range(2) for b in straight]
    first = nn.data.DataLoader(data, batch_size=3, shuffle=True, seed=4)
    taken = []
    for batch in first:
        taken.append([int(i) for i in batch[1]])
        if len(taken) == 2:
            state = first.state_dict()  # after training on 2 of the 4 batches
            assert state["epoch"] == 0 and state["batches_yielded"] == 2
    fresh = nn.data.DataLoader(data, batch_size=3, shuffle=True, seed=4)
    fresh.load_state_dict(state)
    assert fresh.state_dict() == state  # not resumed yet: still the same state
    rest = [[int(i) for i in b[1]] for _ in range(2) for b in fresh]
    assert taken[:2] + rest == batches


def test_a_pass_left_early_counts_as_done() -> None:
    data = nn.data.TensorDataset(np.zeros((10, 1)), np.arange(10))

    def run(resume: bool) -> list[int]:
        loader = nn.data.DataLoader(data, batch_size=2, shuffle=True, seed=1)
        for i, _ in enumerate(loader):
            if i == 1:
                break  # e.g. a fixed number of steps per epoch
        if resume:
            state = loader.state_dict()
            assert state["batches_yielded"] == 0 and state["epoch"] == 1
            loader = nn.data.DataLoader(data, batch_size=2, shuffle=True, seed=1)
            loader.load_state_dict(state)
        return order(loader)

    assert run(True) == run(False)


def test_a_loader_without_a_seed_saves_nns_default_generator() -> None:
    data = nn.data.TensorDataset(np.zeros((6, 1)), np.arange(6))
    nn.manual_seed(3)
    loader = nn.data.DataLoader(data, batch_size=6, shuffle=True)
    state = loader.state_dict()
    expected = order(loader)
    nn.manual_seed(99)
    loader.load_state_dict(state)
    assert order(loader) == expected


def test_loader_load_errors() -> None:
    data = nn.data.TensorDataset(np.zeros((6, 1)), np.arange(6))
    shuffled = nn.data.DataLoader(data, batch_size=2, shuffle=True, seed=0)
    plain = nn.data.DataLoader(data, batch_size=2)
    with pytest.raises(ValueError, match="the saved loader did not shuffle, this one does"):
        shuffled.load_state_dict(plain.state_dict())
    with pytest.raises(ValueError, match="expected the keys"):
        plain.load_state_dict({"epoch": 1})
    with pytest.raises(ValueError, match="5 batches given, but a pass has 3"):
        plain.load_state_dict({"epoch": 0, "batches_yielded": 5, "generator": None})
    state = shuffled.state_dict()
    state["generator"] = {"bit_generator": "MT19937", "state": {"key": [], "pos": 0}}
    with pytest.raises(ValueError, match="does not fit this loader's PCG64"):
        shuffled.load_state_dict(state)


# --------------------------------------------------------------------------------------------
# Done when: a run checkpointed at epoch 3 and resumed equals a run straight through
# --------------------------------------------------------------------------------------------

RUNS = {
    "adam_cosine": (
        lambda ps: nn.optim.Adam(ps, lr=0.01),
        lambda opt, steps: sched.CosineAnnealingLR(opt, T_max=6),
        "epoch",
    ),
    "sgd_nesterov_onecycle": (
        lambda ps: nn.optim.SGD(ps, lr=0.01, momentum=0.9, nesterov=True, weight_decay=1e-4),
        lambda opt, steps: sched.OneCycleLR(opt, max_lr=0.1, total_steps=6 * steps),
        "batch",
    ),
}


class Run:
    """A model, optimizer, scheduler and shuffling loader built from scratch, as a restarted
    script would; `init` seeds the model's initial weights."""

    def __init__(self, name: str, init: int) -> None:
        make_opt, make_sched, self.every = RUNS[name]
        X, y = nn.datasets.make_moons(40, noise=0.2, seed=0)
        self.loader = nn.data.DataLoader(
            nn.data.TensorDataset(X, y), batch_size=8, shuffle=True, seed=7
        )
        self.model = nn.MLP([2, 16, 2], norm="batch", generator=init)
        self.opt = make_opt(self.model.parameters())
        self.scheduler = make_sched(self.opt, len(self.loader))
        self.loss_fn = nn.CrossEntropyLoss()
        self.orders: list[list[int]] = []

    def epoch(self) -> None:
        seen = []
        for x, y in self.loader:
            seen += [int(row) for row in np.round(x.data[:, 0] * 1e6)]
            self.opt.zero_grad()
            self.loss_fn(self.model(x), y).backward()
            self.opt.step()
            if self.every == "batch":
                self.scheduler.step()
        if self.every == "epoch":
            self.scheduler.step()
        self.orders.append(seen)

    def state(self, epoch: int) -> dict[str, Any]:
        return {
            "model": self.model.state_dict(),
            "optimizer": self.opt.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "loader": self.loader.state_dict(),
            "epoch": epoch,
        }

    def load(self, checkpoint: dict[str, Any]) -> int:
        self.model.load_state_dict(checkpoint["model"])
        self.opt.load_state_dict(checkpoint["optimizer"])
        self.scheduler.load_state_dict(checkpoint["scheduler"])
        self.loader.load_state_dict(checkpoint["loader"])
        return checkpoint["epoch"]


@pytest.mark.parametrize("name", sorted(RUNS))
def test_a_run_checkpointed_at_epoch_3_resumes_exactly_to_epoch_6(
    name: str, tmp_path: Path
) -> None:
    straight = Run(name, init=0)
    for _ in range(6):
        straight.epoch()

    first = Run(name, init=0)
    for _ in range(3):
        first.epoch()
    nn.save(first.state(epoch=3), tmp_path / "checkpoint.npz")
    del first

    resumed = Run(name, init=1)  # fresh objects, other initial weights
    start = resumed.load(nn.load(tmp_path / "checkpoint.npz"))
    assert start == 3
    for _ in range(start, 6):
        resumed.epoch()

    assert resumed.orders == straight.orders[3:]  # the loader shuffled as the straight run
    assert_same(resumed.model.state_dict(), straight.model.state_dict())
    assert_same(resumed.opt.state_dict(), straight.opt.state_dict())
    assert resumed.scheduler.get_last_lr() == straight.scheduler.get_last_lr()
    assert_same(resumed.scheduler.state_dict(), straight.scheduler.state_dict())
    assert_same(resumed.state(6), straight.state(6))
