"""The whole verification of one document, computed once into a result object for the report:
goldens regenerated (and matched with the committed files), float32 runs diffed, claims judged."""

from __future__ import annotations

import dataclasses
import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import mpmath
import numpy as np
import sympy as sp

from .. import paths
from ..auditing import AuditResult, installed
from ..auditing.batch import start_audits
from ..auditing.calibration import committed_line
from ..cache import Hit, cached, taken, taken_since
from ..experiments import Experiment, experiment
from ..golden.compare import Comparison, compare
from ..golden.goldenset import GoldenEntry, load_manifest, regenerate
from ..golden.run import run_golden
from ..golden.trace import Trace, content, content_hash, loads
from ..runners.defaults import Shipped, shipped_adam_defaults, unread_frameworks
from ..runners.numpy_ import run_numpy
from ..symbolic.derive import Derivation, derive
from ..symbolic.identities import Identity, all_identities
from ..symbolic.problems import available_problems, find_problem
from ..version import __version__
from . import NOT_CHECKABLE, VERDICTS, ClaimResult, ClaimsFile, check_claims, load_claims
from .check import check_claim, question
from .provenance import Source, trace_sources


@dataclass(frozen=True)
class Float32Check:
    """A float32 run diffed against the exact golden and the float32-hyperparameter golden."""

    implementation: str
    golden_id: str
    exact: Comparison
    quantized: Comparison | None
    crosses_zero: bool = False  # a parameter changes sign along the golden (θ + Δ cancels)


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
    finding: str = ""  # what the run shows, computed from the trace and the derivation


@dataclass(frozen=True)
class Coverage:
    """How much of the document the claims file checks. A statement is a claim, except that a
    code block counts each of its imports and calls; unchecked: not-checkable claims and the
    code items that could not be resolved here, each with its reason."""

    statements: int
    claims: int
    unchecked: tuple[tuple[str, str, str], ...]  # (claim id or item, quote, reason)

    @property
    def checked(self) -> int:
        return self.statements - len(self.unchecked)


def verdict_counts(results: Sequence[ClaimResult]) -> dict[str, int]:
    """Claims per verdict, every verdict present (zeros included)."""
    out = dict.fromkeys(VERDICTS, 0)
    for r in results:
        out[r.verdict] += 1
    return out


def coverage(results: tuple[ClaimResult, ...]) -> Coverage:
    statements, unchecked = 0, []
    for r in results:
        if r.claim.kind == "code":
            statements += len(r.items)
            unchecked += [(f"{r.claim.id} {i.label}", i.claimed, i.golden or "")
                          for i in r.items if i.verdict == NOT_CHECKABLE]
        else:
            statements += 1
            if r.verdict == NOT_CHECKABLE:
                unchecked.append((r.claim.id, r.claim.quote, r.note))
    return Coverage(statements, len(results), tuple(unchecked))


@dataclass(frozen=True)
class ExampleRun:
    """A golden the document's worked example is checked against, described from its problem
    definition and its trace (so the report's description is the computation's)."""

    golden_id: str
    title: str
    data: tuple[tuple[str, tuple[str, ...]], ...]
    start: tuple[tuple[str, str], ...]
    optimizer: str
    hyper: tuple[tuple[str, str], ...]
    steps: int


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
    examples: tuple[ExampleRun, ...] = ()  # the goldens the worked-example claims use
    calibration: str | None = None  # the audit's committed mutation score, as a sentence
    defaults_unread: tuple[str, ...] = ()  # frameworks whose shipped defaults are not installed
    not_installed: tuple[str, ...] = ()  # frameworks missing here: what could not be checked
    reused: tuple[Hit, ...] = ()  # results taken from the cache: same code, same versions

    @property
    def coverage(self) -> Coverage:
        return coverage(self.results)

    def counts(self) -> dict[str, int]:
        """Claims per verdict (every verdict present, zeros included): they sum to the claims."""
        return verdict_counts(self.results)

    def kind_counts(self) -> dict[str, dict[str, int]]:
        """Verdict counts per kind of claim, kinds in first-use order."""
        out: dict[str, dict[str, int]] = {}
        for r in self.results:
            row = out.setdefault(r.claim.kind, dict.fromkeys(VERDICTS, 0))
            row[r.verdict] += 1
        return out

    def item_counts(self) -> dict[str, int]:
        """The worked example's printed numbers (items of trace claims) per verdict."""
        out = dict.fromkeys(VERDICTS, 0)
        for r in self.results:
            if r.claim.kind == "trace":
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
                                   compare(tested, qgolden, "numpy", qid),
                                   _crosses_zero(goldens[e.id])))
    return tuple(checks)


def _crosses_zero(trace: Trace) -> bool:
    """Whether some parameter is positive at one step of the trace and negative at another."""
    for i in range(len(trace.param_names)):
        signs = {(Fraction(s.params[i]) > 0) - (Fraction(s.params[i]) < 0) for s in trace.steps}
        if {1, -1} <= signs:
            return True
    return False


def verify_document(claims_path: Path | None = None, golden_dir: Path | None = None,
                    progress: Callable[[str], None] = lambda s: None,
                    impls: Sequence[str] | None = None,
                    meanwhile: Callable[[tuple[Experiment, ...]], object] | None = None
                    ) -> Verification:
    """Regenerate goldens, run the float32 runners, check every claim of ``claims_path``.
    ``impls``: the implementations audited, whose frameworks' shipped Adam defaults are read
    (default: every installed one; reading a framework imports it, which takes seconds).
    ``meanwhile(experiments)`` runs while the audits finish (the CLI draws figures there)."""
    mark = taken()
    claims = load_claims(Path(claims_path or paths.ARTICLE_CLAIMS))
    directory = Path(golden_dir or paths.GOLDEN)
    entries = load_manifest(directory / "manifest.toml")
    pairs = [(impl, opt) for impl in (installed() if impls is None else impls) for opt in AUDITED]
    # in worker processes, while this one does the rest; the API and code claims on the
    # frameworks audited are answered there, where the framework is imported anyway
    asked = [q for q in map(question, claims.claims) if q is not None]
    pending = start_audits(pairs, questions=asked)
    try:
        infos = _golden_infos(entries, directory, progress)
        goldens = {g.id: g.trace for g in infos}
        checks = _float32_checks(entries, goldens, progress)
        progress("symbolic derivations")
        derivations = tuple(cached("derivation", (n,), lambda n=n: derive(find_problem(n)))
                            for n in available_problems())
        versions = {"adam-verify": __version__, "python": platform.python_version(),
                    "sympy": sp.__version__, "mpmath": mpmath.__version__,
                    "numpy": np.__version__}
        versions |= _distribution_versions(("gmpy2", "matplotlib", "ml_dtypes", "torch", "jax",
                                            "optax", "mlx", "keras"))
        names = list(dict.fromkeys(c.options["experiment"] for c in claims.claims
                                   if c.kind == "experiment"))
        done = []
        for name in names:
            progress(f"experiment {name}")
            done.append(experiment(name))
        identities = cached("identities", (), all_identities)
        progress("claims")
        early = {i: check_claim(c, goldens) for i, c in enumerate(claims.claims)
                 if c.kind not in ("audit", "api", "code")}
        wanted = None if impls is None else {i.split("-")[0] for i in impls}
        shipped, unread = shipped_adam_defaults(wanted), unread_frameworks(wanted)
        if meanwhile is not None:
            meanwhile(tuple(done))
    except BaseException:
        pending.cancel()
        raise
    audits, skips = pending.collect(progress)
    by_key = _by_key(audits, skips)
    results = tuple(early[i] if i in early else check_claim(c, goldens, by_key, pending.answers)
                    for i, c in enumerate(claims.claims))
    return Verification(claims, results, infos, checks, versions, derivations, identities,
                        _reproductions(infos), tuple(audits), tuple(skips),
                        trace_sources(results, goldens), tuple(done),
                        shipped, _examples(claims, goldens), committed_line(),
                        unread, _not_installed(), taken_since(mark))


def check_document(claims_path: Path | None = None, golden_dir: Path | None = None,
                   progress: Callable[[str], None] = lambda s: None
                   ) -> tuple[ClaimsFile, tuple[ClaimResult, ...]]:
    """Only the claims' verdicts, computing only what they use: the goldens their worked
    examples name, the audits they name (in parallel), their experiments, nothing else (the
    report's tables, float32 diffs and derivations are left out)."""
    claims = load_claims(Path(claims_path or paths.ARTICLE_CLAIMS))
    directory = Path(golden_dir or paths.GOLDEN)
    used = {c.golden for c in claims.claims if c.kind == "trace"}
    entries = [e for e in load_manifest(directory / "manifest.toml") if e.id in used] if used \
        else []
    goldens = {g.id: g.trace for g in _golden_infos(entries, directory, progress)}
    pairs = list(dict.fromkeys(
        (c.options["impl"], c.options["optimizer"]) for c in claims.claims
        if c.kind == "audit" and c.options.get("problem", "probe") == "probe"))
    pending = start_audits(pairs, questions=[q for q in map(question, claims.claims)
                                             if q is not None])
    audits, skips = pending.collect(progress)
    progress("claims")
    results = check_claims(claims, goldens, _by_key(audits, skips), pending.answers)
    return claims, results


def _by_key(audits: Sequence[AuditResult], skips: Sequence[tuple[str, str, str]]
            ) -> dict[tuple[str, str, str | None], AuditResult | str]:
    """The batch's audits by (implementation, optimizer, problem), and why each skipped pair
    was not audited (an audit claim says so rather than running it again)."""
    return ({(a.impl, a.optimizer, None): a for a in audits}
            | {(i, o, None): why for i, o, why in skips})


FRAMEWORK_EXTRAS = {"torch": "torch", "jax": "jax", "optax": "jax", "keras": "keras",
                    "mlx": "mlx"}


def _not_installed() -> tuple[str, ...]:
    """The frameworks this report would audit and check code against, but cannot import."""
    from importlib.util import find_spec

    return tuple(m for m in FRAMEWORK_EXTRAS if find_spec(m) is None)


def _examples(claims: ClaimsFile, goldens: dict[str, Trace]) -> tuple[ExampleRun, ...]:
    out = []
    for gid in dict.fromkeys(c.golden for c in claims.claims if c.kind == "trace"):
        trace = goldens.get(gid)
        if trace is None:
            continue
        p = find_problem(trace.problem["name"])
        data = tuple((k, tuple(str(x) for x in vals)) for k, vals in p.data)
        start = tuple(zip(p.params, (str(x) for x in trace.problem["init"]), strict=True))
        out.append(ExampleRun(gid, p.title, data, start, trace.optimizer["name"],
                              tuple(trace.optimizer["hyper"].items()), trace.steps[-1].t))
    return tuple(out)


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
        hyper = dict(g.trace.optimizer["hyper"])
        finding = (_bound_finding(hyper, delta) if name == "spike"
                   else _minimiser_finding(name, last.params))
        out.append(Reproduction(g.id, REPRODUCTIONS[name], g.trace.optimizer["name"], hyper,
                                g.trace.optimizer["schedule"], last.t, last.params,
                                delta if name == "spike" else None, finding))
    return tuple(out)


def _minimiser_finding(problem: str, final: tuple[str, ...]) -> str:
    """Where a run ends against the minimiser of the (average) loss over the feasible set."""
    p = find_problem(problem)
    d = derive(p)
    if d.global_min is None or len(p.params) != 1:
        return ""
    (x,) = p.symbols
    candidates = [c.coords[0] for c in d.critical_points] + [b for pair in p.domain for b in pair]
    at = [c for c in candidates if sp.simplify(p.loss.subs(x, c) - d.global_min) == 0]
    if not at:
        return ""
    end = Fraction(final[0])
    target = Fraction(str(sp.nsimplify(at[0])))
    gap = abs(end - target)
    return (f"the average loss is least at θ* = {at[0]} (SymPy); the run ends at "
            f"θ = {float(end):.6g}, {float(gap):.4g} from it")


def _bound_finding(hyper: dict[str, str], delta: tuple[str, ...]) -> str:
    """The last step against Kingma & Ba's §2.1 bound α(1 − β1)/√(1 − β2) at these values."""
    a, b1, b2 = (sp.Rational(hyper[k]) for k in ("lr", "beta1", "beta2"))
    bound = a * (1 - b1) / sp.sqrt(1 - b2)
    ratio = max(sp.Rational(Fraction(x)) for x in delta) / bound
    r = float(sp.N(ratio, 20))
    where = ("reaches the bound" if abs(r - 1) < 1e-6 else
             "exceeds the bound" if r > 1 else "stays below the bound")
    return (f"bound α(1 − β1)/√(1 − β2) = {float(sp.N(bound, 20)):.8g}; the last step is "
            f"{r:.4f} × the bound: it {where}")
