"""`python -m lamina.examples.charlm`: a very short run end to end (samples, progress lines,
checkpoints reloaded here and in PyTorch, figure), and the command line's checks."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import lamina
import lamina.safetensors
from lamina.examples import charlm

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_short_run_end_to_end(tmp_path, capsys):
    out = tmp_path / "run"
    args = charlm.parse_args(["--quick", "--steps", "6", "--out", str(out), "--seed", "2"])
    result = charlm.run(args)
    text = capsys.readouterr().out
    assert "data: pydoc_data.topics" in text
    assert "Model summary: GPT" in text and "shares" in text  # the tied head
    assert "sample before training" in text and "sample after training" in text
    assert "step 6/6" in text and "val loss" in text
    assert "identical loss on a validation batch" in text
    for kind in ("before", "after"):
        s = result["samples"][kind]
        assert len(s) == 60 and charlm._indent(s) in text
    h = result["history"]
    assert len(h["loss"]) == 6 and all(math.isfinite(v) for v in h["loss"])
    # from a uniform guess (log vocab) the loss goes down within six steps
    assert h["loss"][-1] < math.log(result["vocab_size"])

    pt, st = result["checkpoints"]["pt"], result["checkpoints"]["safetensors"]
    sd = lamina.load(pt, weights_only=True)
    assert sd.keys() == lamina.safetensors.load_file(st).keys()
    assert "lm_head.weight" in sd and "transformer.wte.weight" in sd
    tsd = torch.load(pt, weights_only=True)
    for k, v in sd.items():
        np.testing.assert_array_equal(tsd[k].numpy(), v.numpy())
    if result["figure"] is not None:
        with open(result["figure"], "rb") as f:
            assert f.read(8) == PNG_MAGIC
        assert f"figure: {result['figure']}" in text


def test_codec_round_trip():
    text = charlm.load_text()
    assert len(text) > 100_000
    codec = charlm.CharCodec(text)
    s = text[1000:1200]
    assert codec.decode(codec.encode(s)) == s


def test_bad_arguments_exit_2(capsys):
    for argv in (["--steps", "0"], ["--embd", "30", "--heads", "4"], ["--device", "tpu"],
                 ["--lr", "-1"]):
        with pytest.raises(SystemExit) as e:
            charlm.parse_args(argv)
        assert e.value.code == 2
    assert "lamina-charlm" in capsys.readouterr().err


def test_module_runs_as_program(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    r = subprocess.run([sys.executable, "-m", "lamina.examples.charlm", "--help"],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0 and "--quick" in r.stdout and "--steps" in r.stdout
