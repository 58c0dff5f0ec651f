"""The whole verification of one document, computed once into a result object for the report:
goldens regenerated (and matched with the committed files), float32 runs diffed, claims judged."""

from __future__ import annotations

import platform
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import mpmath
import numpy as np
import sympy as sp

from . import __version__, paths
from .claims import ClaimResult, ClaimsFile, check_claims, load_claims
from .compare import Comparison, compare
from .goldenset import GoldenEntry, load_manifest, regenerate
from .identities import Identity, all_identities
from .problems import available_problems, find_problem
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
class Verification:
    claims: ClaimsFile
    results: tuple[ClaimResult, ...]
    goldens: tuple[GoldenInfo, ...]
    float32: tuple[Float32Check, ...]
    versions: dict[str, str]
    derivations: tuple[Derivation, ...] = ()
    identities: tuple[Identity, ...] = ()

    def counts(self) -> dict[str, int]:
        out = {"confirmed": 0, "contradicted": 0, "not checkable": 0}
        for r in self.results:
            out[r.verdict] += 1
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


def _float32_checks(entries: list[GoldenEntry], goldens: dict[str, Trace],
                    progress: Callable[[str], None]) -> tuple[Float32Check, ...]:
    checks = []
    quantized = {(e.spec.problem.name, e.spec.optimizer, tuple(sorted(e.spec.full_hyper().items())),
                  e.spec.steps): e.id for e in entries if e.spec.quantize == "float32"}
    for e in entries:
        if e.spec.quantize:
            continue
        progress(f"numpy float32 {e.id}")
        tested = run_numpy(e.spec)
        key = (e.spec.problem.name, e.spec.optimizer, tuple(sorted(e.spec.full_hyper().items())),
               e.spec.steps)
        qid = quantized.get(key)
        checks.append(Float32Check(
            "numpy", e.id, compare(tested, goldens[e.id], "numpy", e.id),
            compare(tested, goldens[qid], "numpy", qid) if qid else None))
    return tuple(checks)


def verify_document(claims_path: Path | None = None, golden_dir: Path | None = None,
                    progress: Callable[[str], None] = lambda s: None) -> Verification:
    """Regenerate goldens, run the float32 runners, check every claim of ``claims_path``."""
    claims = load_claims(Path(claims_path or paths.ARTICLE_CLAIMS))
    directory = Path(golden_dir or paths.GOLDEN)
    entries = load_manifest(directory / "manifest.toml")
    infos = _golden_infos(entries, directory, progress)
    goldens = {g.id: g.trace for g in infos}
    results = check_claims(claims, goldens)
    checks = _float32_checks(entries, goldens, progress)
    progress("symbolic derivations")
    derivations = tuple(derive(find_problem(n)) for n in available_problems())
    versions = {"adam-verify": __version__, "python": platform.python_version(),
                "sympy": sp.__version__, "mpmath": mpmath.__version__, "numpy": np.__version__}
    return Verification(claims, results, infos, checks, versions, derivations, all_identities())
