"""The whole verification of one document, computed once into a result object for the report:
goldens regenerated (and matched with the committed files), float32 runs diffed, claims judged."""

from __future__ import annotations

import dataclasses
import platform
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import mpmath
import numpy as np
import sympy as sp

from . import __version__, paths
from .auditing import AuditResult, audit, installed
from .claims import ClaimResult, ClaimsFile, check_claims, load_claims
from .compare import Comparison, compare
from .errors import InputError
from .experiments import Experiment, experiment
from .golden import run_golden
from .goldenset import GoldenEntry, load_manifest, regenerate
from .identities import Identity, all_identities
from .problems import available_problems, find_problem
from .provenance import Source, trace_sources
from .runners.defaults import Shipped, shipped_adam_defaults
from .runners.numpy_ import run_numpy
from .symbolic import Derivation, derive
from .trace import Trace, content, content_hash, loads


@dataclass(frozen=True)
class Float32Check:
    """A float32 run diffed against the exact golden and the float32-hyperparameter golden."""

    implementation: str
    golden_id: str
    exact: Comparison
    quantized: Comparison | None


@dataclass(frozen=True)
class GoldenInfo:
    id: str
    trace: Trace
    sha256: str
    committed_matches: bool


@dataclass(frozen=True)
class Reproduction:
    """A literature result reproduced by a committed golden: where the run ends."""

    golden_id: str
    source: str
    optimizer: str
    hyper: dict
    schedule: str
    steps: int
    final: tuple[str, ...]
    last_step: tuple[str, ...] | None  # |Δ| of the last step, for the step-bound runs


# (optimizer, hyperparameters over the probe's): dampening 0 for momentum, which optax and
# Keras do not have
AUDITED = ("adam", "adamw", "amsgrad", "rmsprop", "momentum")
REPRODUCTIONS = {
    "reddi_online": "Reddi, Kale & Kumar (ICLR 2018) §3 online problem, C = 3",
    "spike": "Kingma & Ba (ICLR 2015) §2.1 step bound, one spike after 19 zeros",
}


@dataclass(frozen=True)
class Verification:
    claims: ClaimsFile
    results: tuple[ClaimResult, ...]
    goldens: tuple[GoldenInfo, ...]
    float32: tuple[Float32Check, ...]
    versions: dict[str, str]
    derivations: tuple[Derivation, ...] = ()
    identities: tuple[Identity, ...] = ()
    reproductions: tuple[Reproduction, ...] = ()
    audits: tuple[AuditResult, ...] = ()
    audit_skips: tuple[tuple[str, str, str], ...] = ()  # (impl, optimizer, why not)
    sources: tuple[Source, ...] = ()  # where each contradicted worked-example number comes from
    experiments: tuple[Experiment, ...] = ()  # those the claims use, in first-use order
    defaults: tuple[Shipped, ...] = ()  # Adam defaults each installed framework ships

    def counts(self) -> dict[str, int]:
        out = {"confirmed": 0, "contradicted": 0, "not checkable": 0}
        for r in self.results:
            out[r.verdict] += 1
        return out

    def kind_counts(self) -> dict[str, dict[str, int]]:
        """Verdict counts per kind of claim, kinds in first-use order."""
        out: dict[str, dict[str, int]] = {}
        for r in self.results:
            row = out.setdefault(r.claim.kind, {"confirmed": 0, "contradicted": 0,
                                                "not checkable": 0})
            row[r.verdict] += 1
        return out

    def item_counts(self) -> dict[str, int]:
        out = {"confirmed": 0, "contradicted": 0, "not checkable": 0}
        for r in self.results:
            for i in r.items:
                out[i.verdict] += 1
        return out


def _golden_infos(entries: list[GoldenEntry], directory: Path,
                  progress: Callable[[str], None]) -> tuple[GoldenInfo, ...]:
    infos = []
    for e in entries:
        progress(f"golden {e.id}")
        text = regenerate(e)
        path = e.path(directory)
        committed = path.exists() and path.read_text(encoding="utf-8", errors="replace") == text
        trace = loads(text, e.id)
        infos.append(GoldenInfo(e.id, trace, content_hash(content(trace)), committed))
    return tuple(infos)


def _twin_key(e: GoldenEntry) -> tuple:
    """What a golden and its float32-hyperparameter twin have in common."""
    s = e.spec
    return (s.problem.name, s.optimizer, tuple(sorted(s.full_hyper().items())), s.steps,
            s.schedule)


def _float32_checks(entries: list[GoldenEntry], goldens: dict[str, Trace],
                    progress: Callable[[str], None]) -> tuple[Float32Check, ...]:
    checks = []
    quantized = {_twin_key(e): e.id for e in entries if e.spec.quantize == "float32"}
    for e in entries:
        if e.spec.quantize:
            continue
        progress(f"numpy float32 {e.id}")
        tested = run_numpy(e.spec)
        qid = quantized.get(_twin_key(e))
        if qid:
            qgolden = goldens[qid]
        else:  # no committed float32-hyperparameter golden: compute it here
            qid = f"{e.id} (float32 hyperparameters, computed)"
            qgolden = run_golden(dataclasses.replace(e.spec, quantize="float32"))
        checks.append(Float32Check("numpy", e.id, compare(tested, goldens[e.id], "numpy", e.id),
                                   compare(tested, qgolden, "numpy", qid)))
    return tuple(checks)


def verify_document(claims_path: Path | None = None, golden_dir: Path | None = None,
                    progress: Callable[[str], None] = lambda s: None) -> Verification:
    """Regenerate goldens, run the float32 runners, check every claim of ``claims_path``."""
    claims = load_claims(Path(claims_path or paths.ARTICLE_CLAIMS))
    directory = Path(golden_dir or paths.GOLDEN)
    entries = load_manifest(directory / "manifest.toml")
    infos = _golden_infos(entries, directory, progress)
    goldens = {g.id: g.trace for g in infos}
    checks = _float32_checks(entries, goldens, progress)
    progress("symbolic derivations")
    derivations = tuple(derive(find_problem(n)) for n in available_problems())
    versions = {"adam-verify": __version__, "python": platform.python_version(),
                "sympy": sp.__version__, "mpmath": mpmath.__version__, "numpy": np.__version__}
    versions |= _distribution_versions(("gmpy2", "matplotlib", "ml_dtypes", "torch", "jax",
                                        "optax", "mlx", "keras"))
    audits, skips = [], []
    for impl in installed():
        for optimizer in AUDITED:
            progress(f"audit {impl} {optimizer}")
            try:
                audits.append(audit(impl, optimizer))
            except InputError as exc:  # e.g. a framework without that optimizer
                skips.append((impl, optimizer, str(exc)))
    names = list(dict.fromkeys(c.options["experiment"] for c in claims.claims
                               if c.kind == "experiment"))
    done = []
    for name in names:
        progress(f"experiment {name}")
        done.append(experiment(name))
    progress("claims")
    by_key = {(a.impl, a.optimizer, None): a for a in audits}
    results = check_claims(claims, goldens, by_key)
    return Verification(claims, results, infos, checks, versions, derivations, all_identities(),
                        _reproductions(infos), tuple(audits), tuple(skips),
                        trace_sources(results, goldens), tuple(done), shipped_adam_defaults())


def _distribution_versions(names: tuple[str, ...]) -> dict[str, str]:
    """Installed versions, read from package metadata (nothing is imported)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out


def _reproductions(infos: tuple[GoldenInfo, ...]) -> tuple[Reproduction, ...]:
    out = []
    for g in infos:
        name = g.trace.problem["name"]
        if name not in REPRODUCTIONS:
            continue
        last, before = g.trace.steps[-1], g.trace.steps[-2]
        delta = tuple(str(abs(Fraction(a) - Fraction(b))) if name == "spike" else ""
                      for a, b in zip(last.params, before.params, strict=True))
        out.append(Reproduction(g.id, REPRODUCTIONS[name], g.trace.optimizer["name"],
                                dict(g.trace.optimizer["hyper"]), g.trace.optimizer["schedule"],
                                last.t, last.params, delta if name == "spike" else None))
    return tuple(out)
