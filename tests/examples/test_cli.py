"""lamina/examples/_cli.py: the argparse types, the shared options, the optional-dependency check
and the checkpoint files."""

import argparse

import pytest

import lamina
from lamina.examples._cli import (add_run_options, have, load_checkpoints, log_checkpoints,
                                 parse_device, positive_float, positive_int,
                                 save_checkpoints)


def test_positive_int_and_float():
    assert positive_int("3") == 3 and positive_float("0.5") == 0.5
    for bad in ("0", "-1", "x", "1.5"):
        with pytest.raises(argparse.ArgumentTypeError, match="positive integer"):
            positive_int(bad)
    for bad in ("0", "-2", "inf", "nan", "x"):
        with pytest.raises(argparse.ArgumentTypeError, match="positive number"):
            positive_float(bad)


def test_have():
    assert have("json") and not have("surely_not_a_module_xyz")


def test_run_options_and_device():
    p = argparse.ArgumentParser(prog="demo")
    add_run_options(p, "demo-out", "seed of everything (0)")
    args = p.parse_args([])
    assert (args.device, args.out, args.seed) == ("cpu", "demo-out", 0)
    assert "(./demo-out)" in p.format_help() and "seed of everything (0)" in p.format_help()
    assert parse_device(p, "cpu") == lamina.device("cpu")
    for bad, msg in (("meta", "expected cpu or cuda"), ("nonsense", "argument --device")):
        with pytest.raises(SystemExit) as e:
            parse_device(p, bad)
        assert e.value.code == 2


def test_parse_device_messages(capsys):
    p = argparse.ArgumentParser(prog="demo")
    with pytest.raises(SystemExit):
        parse_device(p, "meta")
    assert "argument --device: expected cpu or cuda[:N], got 'meta'" in capsys.readouterr().err
    if not lamina.cuda.is_available():
        with pytest.raises(SystemExit):
            parse_device(p, "cuda")
        assert "'cuda' is not available" in capsys.readouterr().err


def test_checkpoints_round_trip(tmp_path):
    model = lamina.nn.Linear(3, 2)
    paths = save_checkpoints(model, str(tmp_path), "ck")
    assert paths == {"pt": str(tmp_path / "ck.pt"),
                     "safetensors": str(tmp_path / "ck.safetensors")}
    loaded = load_checkpoints(paths, "cpu")
    assert loaded.keys() == {"pt", "safetensors"}
    for sd in loaded.values():
        assert sd.keys() == model.state_dict().keys()
        for k, v in model.state_dict().items():
            assert lamina.equal(sd[k], v)
    lines = []
    log_checkpoints(paths, lines.append)
    assert lines[0].startswith(f"checkpoint (pt): {paths['pt']} (")
    assert lines[1].startswith(f"checkpoint (safetensors): {paths['safetensors']} (")
    assert lines[0].endswith(" KiB)")
