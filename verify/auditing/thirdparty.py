"""Third-party Adams, audited as optimizer objects where their package is installed: TensorFlow's
kernels, torchao's low-bit AdamW (plus their quantized state measured on a large tensor),
heavyball and DeepSpeed's CPU Adam. What ``adam-verify third-party`` renders."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib.util import find_spec

from ..errors import InputError
from ..runners.lowbit import LowBitMeasure, measure_lowbit
from . import audit


@dataclass(frozen=True)
class Package:
    module: str
    install: str  # the line that installs it next to adam-verify
    targets: tuple[tuple[str, str, tuple[str, ...]], ...]  # (MODULE:ATTR, optimizer, dtypes)
    note: str  # what reading its source says it computes (asserted in tests/test_thirdparty.py)


PACKAGES = (
    Package("tensorflow", "pip install tensorflow-cpu",
            (("tensorflow.compat.v1.train:AdamOptimizer", "adam",
              ("float32", "float16", "bfloat16")),),
            "`AdamOptimizer` calls the `ResourceApplyAdam` kernel (driven directly, it gives the "
            "same trace value for value); `tf.raw_ops.ApplyAdam` takes TF1 reference tensors and "
            "refuses eager execution. `tf.keras` is Keras 3: its row runs on the TensorFlow "
            "backend. In bfloat16 with its default β2 = 0.999, β2 rounds to 1, so √(1 − β2ᵗ) = 0 "
            "and the first step is lost (torch, deriving 1 − β2ᵗ in double, moves)."),
    Package("torchao", "pip install --no-deps torchao  # next to torch",
            tuple((f"torchao.optim:{n}", "adamw", ("float32", "bfloat16"))
                  for n in ("AdamW8bit", "AdamW4bit", "AdamWFp8")),
            "State tensors under 4096 elements are not quantized (`_AdamBase._new_buffer`), so the "
            "2-parameter audit sees float32 opmath with the state stored in the parameter's "
            "dtype; the quantized state is measured below on 8192 parameters."),
    Package("heavyball", "pip install heavyball",
            (("heavyball:AdamW", "adamw", ("float32",)),),
            "Its EMAs use debiased betas, so the state holds m̂ and v̂, and the denominator is "
            "max(√v̂, ε) (`eps_sqrt`), not √v̂ + ε: θ ← θ − α·m̂/max(√v̂, ε)."),
    Package("deepspeed", "pip install deepspeed  # compiles its cpu_adam op on first use",
            (("deepspeed.ops.adam:DeepSpeedCPUAdam", "adamw", ("float32", "bfloat16")),
             ("deepspeed.ops.adam:DeepSpeedCPUAdam", "adam", ("float32",))),
            "`adamw_mode=True` by default: decoupled decay; with weight decay 0 it is Adam."),
)
LOWBIT = ("torch.optim:AdamW", "torchao.optim:AdamW8bit", "torchao.optim:AdamW4bit",
          "torchao.optim:AdamWFp8")


@dataclass(frozen=True)
class Row:
    target: str
    optimizer: str
    dtype: str
    version: str
    verdict: str
    summary: str
    max_ulps: str  # the largest distance from the golden, or why there is none


@dataclass(frozen=True)
class ThirdPartyReport:
    rows: tuple[Row, ...]
    lowbit: tuple[LowBitMeasure, ...]  # decades = 0 and 4 for each of LOWBIT
    packages: tuple[Package, ...]
    missing: tuple[str, ...]  # modules not installed here


def _row(target: str, optimizer: str, dtype: str) -> Row:
    try:
        r = audit(target, optimizer, dtype=dtype)
    except InputError as exc:
        return Row(target, optimizer, dtype, "—", "not run", str(exc), "—")
    return Row(target, optimizer, dtype, r.version, r.verdict, r.summary, r.ulps_text())


def _keras_on_tensorflow() -> Row:
    """Keras 3 picks its backend once per process: the audit runs in a child."""
    code = ("import json, verify; r = verify.audit('keras.optimizers:Adam', 'adam'); "
            "print(json.dumps([r.version, r.verdict, r.summary, r.ulps_text()]))")
    env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    target = "tensorflow.keras.optimizers:Adam"
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["no output"])[-1]
        return Row(target, "adam", "float32", "—", "not run", last, "—")
    version, verdict, summary, ulps = json.loads(out.stdout.strip().splitlines()[-1])
    return Row(target, "adam", "float32", version, verdict, summary, ulps)


def third_party(progress: Callable[[str], None] | None = None) -> ThirdPartyReport:
    """Audit every installed third-party Adam; measure torchao's quantized state."""
    rows: list[Row] = []
    missing = tuple(p.module for p in PACKAGES if not find_spec(p.module))
    for p in PACKAGES:
        if p.module in missing:
            continue
        for target, optimizer, dtypes in p.targets:
            for dtype in dtypes:
                if progress:
                    progress(f"{target} {optimizer} {dtype}")
                rows.append(_row(target, optimizer, dtype))
        if p.module == "tensorflow":
            rows.append(_keras_on_tensorflow())
    lowbit = []
    if "torchao" not in missing:
        for decades in (0, 4):
            for target in LOWBIT:
                if progress:
                    progress(f"{target} state on 8192 parameters")
                lowbit.append(measure_lowbit(target, decades=decades))
    return ThirdPartyReport(tuple(rows), tuple(lowbit), PACKAGES, missing)
