"""The main job, `python -m lamina.examples.digits`: one short epoch end to end (checkpoints and
figure written and reloaded), the initializers through lazy deferred init, argparse errors and
the one-line messages for missing optional dependencies."""

from __future__ import annotations

import builtins
import math
import os

import numpy as np
import pytest
import torch

import lamina
import lamina.safetensors
from lamina import nn
from lamina.examples import digits

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _block_import(monkeypatch, *names):
    """Make ``import name`` (and its submodules) raise ImportError, as if not installed."""
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.split(".")[0] in names:
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)


# ---------------------------------------------------------------------------- end to end
def test_one_epoch_end_to_end(tmp_path, capsys):
    out = tmp_path / "run"
    args = digits.parse_args(["--epochs", "1", "--batch-size", "64", "--out", str(out),
                              "--seed", "3", "--init", "kaiming"])
    result = digits.run(args)
    text = capsys.readouterr().out

    # data, summary, one epoch line, checkpoints, figure
    assert "1,438 train / 359 test" in text
    assert "Model summary: Sequential" in text
    assert "same module as features.conv2" in text
    assert "epoch 1/1" in text and "test acc" in text
    assert "predictions identical on the 359 test images" in text
    assert result["test_acc"] > 0.5  # one epoch learns far beyond chance (0.1)
    info = result["summary"]
    assert info.shared_params == 16 * 16 * 9 + 16  # the tied conv, counted once
    assert info.total_params == 160 + 2320 + 3 * 32 + (16 * 4 * 4 * 64 + 64) + 650

    pt, st = result["checkpoints"]["pt"], result["checkpoints"]["safetensors"]
    assert os.path.dirname(pt) == str(out) and f"checkpoint (pt): {pt}" in text
    assert f"checkpoint (safetensors): {st}" in text
    with open(result["figure"], "rb") as f:
        assert f.read(8) == PNG_MAGIC
    assert os.path.getsize(result["figure"]) > 20_000  # curves and histograms, not a blank
    assert f"figure: {result['figure']}" in text

    # the checkpoints reload into a fresh lazy model, here and in PyTorch
    sd_pt = lamina.load(pt, weights_only=True)
    sd_st = lamina.safetensors.load_file(st)
    assert sd_pt.keys() == sd_st.keys()
    assert "features.conv3.weight" in sd_pt and "features.conv2.weight" in sd_pt
    fresh = digits.build_model()
    fresh.load_state_dict(sd_st)
    assert fresh.features.conv2 is fresh.features.conv3
    x = lamina.rand(5, 1, 8, 8)
    trained = digits.build_model()
    trained.load_state_dict(sd_pt)
    fresh.eval()
    trained.eval()
    with lamina.no_grad():
        assert lamina.equal(fresh(x), trained(x))
    tsd = torch.load(pt, weights_only=True)
    for k, v in sd_pt.items():
        np.testing.assert_array_equal(tsd[k].numpy(), v.numpy())


def test_main_returns_zero_and_history_lengths(tmp_path, capsys):
    assert digits.main(["--epochs", "2", "--out", str(tmp_path), "--batch-size", "256",
                        "--init", "default"]) == 0
    text = capsys.readouterr().out
    assert "epoch 1/2" in text and "epoch 2/2" in text
    assert sorted(os.listdir(tmp_path)) == ["digits_cnn.pt", "digits_cnn.safetensors",
                                            "digits_training.png"]


# ---------------------------------------------------------------------------- model and init
def _materialized(kind):
    lamina.manual_seed(0)
    model = digits.build_model()
    model.apply(digits.initializer(kind))  # before the first forward: recorded, replayed
    model(lamina.zeros(2, 1, 8, 8))
    return model


def test_model_is_lazy_and_tied_before_the_first_call():
    model = digits.build_model()
    assert model.features.conv2 is model.features.conv3
    model(lamina.zeros(2, 1, 8, 8))
    assert type(model.features.conv1) is nn.Conv2d
    assert type(model.features.bn1) is nn.BatchNorm2d
    assert type(model.classifier.fc1) is nn.Linear
    assert tuple(model.classifier.fc1.weight.shape) == (64, 256)
    assert model(lamina.zeros(3, 1, 8, 8)).shape == (3, 10)


def test_kaiming_init_applied_at_materialization():
    model = _materialized("kaiming")
    w = model.classifier.fc1.weight.detach().numpy()
    assert abs(w.std() - math.sqrt(2 / 256)) < 0.1 * math.sqrt(2 / 256)
    assert np.all(model.classifier.fc1.bias.detach().numpy() == 0)
    conv = model.features.conv2.weight.detach().numpy()  # fan_in 16*3*3
    assert abs(conv.std() - math.sqrt(2 / 144)) < 0.1 * math.sqrt(2 / 144)


def test_xavier_init_applied_at_materialization():
    model = _materialized("xavier")
    w = model.classifier.fc1.weight.detach().numpy()
    bound = math.sqrt(6 / (256 + 64))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound


def test_normal_init_applied_at_materialization():
    model = _materialized("normal")
    w = model.classifier.fc1.weight.detach().numpy()
    assert abs(w.std() - 0.01) < 0.001 and abs(w.mean()) < 0.001


def test_default_init_keeps_the_layers_own():
    model = _materialized("default")
    w = model.classifier.fc1.weight.detach().numpy()
    bound = 1 / math.sqrt(256)  # Linear's U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.any(model.classifier.fc1.bias.detach().numpy() != 0)


def test_initializer_rejects_unknown_kind():
    with pytest.raises(ValueError, match="unknown kind 'orthogonal'"):
        digits.initializer("orthogonal")


# ---------------------------------------------------------------------------- command line
def test_defaults():
    args = digits.parse_args([])
    assert (args.epochs, args.batch_size, args.lr, args.init, args.seed, args.out) == (
        10, 64, 3e-3, "kaiming", 0, "digits-out")
    assert args.device == lamina.device("cpu")


@pytest.mark.parametrize("argv, fragment", [
    (["--epochs", "0"], "--epochs: expected a positive integer, got '0'"),
    (["--epochs", "two"], "--epochs: expected a positive integer, got 'two'"),
    (["--batch-size", "-4"], "--batch-size: expected a positive integer"),
    (["--lr", "-0.1"], "--lr: expected a positive number, got '-0.1'"),
    (["--lr", "nan"], "--lr: expected a positive number"),
    (["--init", "orthogonal"], "argument --init: invalid choice: 'orthogonal'"),
    (["--device", "tpu"], "argument --device"),
    (["--seed", "x"], "argument --seed: invalid int value"),
    (["--bogus"], "unrecognized arguments: --bogus"),
])
def test_bad_options_are_argparse_errors(argv, fragment, capsys):
    with pytest.raises(SystemExit) as exc:
        digits.main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: lamina-digits")
    assert fragment in err


def test_cuda_without_gpu_is_an_argparse_error(capsys, monkeypatch):
    monkeypatch.setattr(lamina.cuda, "is_available", lambda: False)
    with pytest.raises(SystemExit) as exc:
        digits.parse_args(["--device", "cuda"])
    assert exc.value.code == 2
    assert "'cuda' is not available" in capsys.readouterr().err


def test_console_script_points_at_main():
    import tomllib

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "pyproject.toml"), "rb") as f:
        project = tomllib.load(f)["project"]
    assert project["scripts"]["lamina-digits"] == "lamina.examples.digits:main"
    extra = {r.split(">")[0].split("=")[0] for r in project["optional-dependencies"]["examples"]}
    assert extra == {"scikit-learn", "matplotlib", "tqdm"}
    test_extra = " ".join(project["optional-dependencies"]["test"])
    assert all(name in test_extra for name in extra)  # so CI runs the end-to-end test


# ---------------------------------------------------------------------------- dependencies
def test_missing_sklearn_is_one_line_and_status_1(tmp_path, monkeypatch, capsys):
    _block_import(monkeypatch, "sklearn")
    assert digits.main(["--out", str(tmp_path / "x")]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1
    assert lines[0] == ('lamina-digits: scikit-learn is required for the digits data; '
                        'install it with: pip install "lamina[examples]"')
    assert not (tmp_path / "x").exists()  # nothing written


def test_missing_matplotlib_skips_the_figure_with_one_line(tmp_path, monkeypatch, capsys):
    _block_import(monkeypatch, "matplotlib")
    args = digits.parse_args(["--epochs", "1", "--batch-size", "256", "--out", str(tmp_path)])
    result = digits.run(args)
    text = capsys.readouterr().out
    notes = [ln for ln in text.splitlines() if ln.startswith("matplotlib")]
    assert notes == [('matplotlib is not installed: the figure is skipped '
                      '(pip install "lamina[examples]")')]
    assert result["figure"] is None
    assert sorted(os.listdir(tmp_path)) == ["digits_cnn.pt", "digits_cnn.safetensors"]


class _Tty:
    def isatty(self):
        return True

    def write(self, s):
        return len(s)

    def flush(self):
        pass


def test_progress_bar_only_on_a_terminal_with_tqdm(monkeypatch):
    lines = []
    monkeypatch.setattr(digits.sys, "stderr", _Tty())
    assert digits.use_progress_bar(lines.append) is True and lines == []
    _block_import(monkeypatch, "tqdm")
    assert digits.use_progress_bar(lines.append) is False
    assert lines == [('tqdm is not installed: plain lines instead of progress bars '
                      '(pip install "lamina[examples]")')]
    monkeypatch.undo()
    lines.clear()
    assert digits.use_progress_bar(lines.append) is False and lines == []  # pytest: no tty


def test_nproc_2_trains_on_two_ranks(tmp_path):
    """--nproc 2 re-launches the program on 2 MPI ranks (DistributedSampler + DDP)."""
    import re
    import subprocess
    import sys

    pytest.importorskip("mpi4py")
    pytest.importorskip("sklearn")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, PYTHONPATH=root)
    p = subprocess.run([sys.executable, "-m", "lamina.examples.digits", "--nproc", "2",
                        "--epochs", "2", "--out", str(tmp_path)], env=env, cwd=str(tmp_path),
                       capture_output=True, text=True, timeout=180)
    assert p.returncode == 0, p.stderr
    last = p.stdout.strip().splitlines()[-1]
    m = re.search(r"test accuracy ([\d.]+)% after 2 epochs on 2 ranks$", last)
    assert m and float(m.group(1)) > 90, last
    assert p.stdout.count("epoch 2/2") == 1  # rank 0 alone reports
    assert (tmp_path / "digits_cnn.pt").exists()
