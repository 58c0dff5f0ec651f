"""Command line: parse arguments, call the pipeline, write files, choose the exit status.

Exit status: 0 all good; 1 a verification the user asked to fail on found a discrepancy
(``golden --check`` drift); 2 bad input or usage (one line on stderr, nothing written).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__, paths
from .errors import InputError
from .trace import write_atomic

PROG = "adam-verify"
HYPER = ("lr", "beta1", "beta2", "eps", "eps_root", "weight_decay", "momentum", "dampening",
         "alpha")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # usage errors: one line, exit 2
        raise InputError(f"usage: {message} (see {PROG} --help)")


def _progress(message: str) -> None:
    if sys.stderr.isatty():
        print(f"\r\033[K{PROG}: {message}", end="", file=sys.stderr, flush=True)


def _bar(done: int, total: int, label: str, smallest: int = 200) -> None:
    """A progress bar on stderr for runs of at least ``smallest`` units (only on a terminal)."""
    if total < smallest or not sys.stderr.isatty():
        return
    if done % max(1, total // 200) and done != total:
        return
    width = 30
    filled = width * done // total
    _progress(f"{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")


def _done_progress() -> None:
    if sys.stderr.isatty():
        print("\r\033[K", end="", file=sys.stderr, flush=True)


def _writable_dir(path: Path) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create output directory: {exc.strerror}", where=str(path)) from None
    if not path.is_dir():
        raise InputError("output path is not a directory", where=str(path))
    return path


def cmd_report(args: argparse.Namespace) -> int:
    from .assemble import verify_document
    from .figures import draw
    from .report import render

    claims = Path(args.claims) if args.claims else paths.ARTICLE_CLAIMS
    out_dir = _writable_dir(Path(args.out) if args.out else paths.REPORTS)  # fail before work
    verification = verify_document(claims, progress=_progress)
    name = "article" if claims == paths.ARTICLE_CLAIMS else claims.stem
    target = out_dir / f"{name}.md"
    try:
        _progress("figures")
        figures = draw(verification, out_dir, name)
        _done_progress()
        write_atomic(target, render(verification, figures))
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror}", where=str(target)) from None
    counts = verification.counts()
    print(f"wrote {target}: {len(verification.results)} claims, {counts['confirmed']} confirmed, "
          f"{counts['contradicted']} contradicted, {counts['not checkable']} not checkable")
    return 0


def _parse_init(text: str) -> tuple:
    from .expr import parse_number

    return tuple(parse_number(part, where="--init") for part in text.split(","))


def cmd_golden(args: argparse.Namespace) -> int:
    from . import goldenset

    if args.check or args.update:
        if args.problem or args.optimizer:
            raise InputError("--check/--update work on the committed goldens; "
                             "drop --problem/--optimizer")
        entries = goldenset.load_manifest()
        if args.check:
            drifts = goldenset.check(entries)
            for d in drifts:
                print(f"{d.id}: {d.reason} ({d.path})")
                for line in d.diff[:40]:
                    print(f"  {line}")
                if len(d.diff) > 40:
                    print(f"  … {len(d.diff) - 40} more diff lines")
            print(f"{len(entries) - len(drifts)}/{len(entries)} committed goldens match "
                  "their regeneration")
            return 1 if drifts else 0
        drifts = goldenset.update(entries)
        for d in drifts:
            print(f"updated {d.id} ({d.reason}): {d.path}")
        print(f"{len(drifts)} golden(s) rewritten, {len(entries) - len(drifts)} unchanged")
        return 0
    return _golden_single(args)


def _golden_single(args: argparse.Namespace) -> int:
    from .golden import run_golden
    from .problems import find_problem
    from .spec import RunSpec
    from .trace import dumps

    if not args.problem or not args.optimizer:
        raise InputError("golden needs --problem and --optimizer (or --check / --update)")
    problem = find_problem(args.problem)
    if args.init:
        problem = problem.with_init(_parse_init(args.init))
    hyper = {k: getattr(args, k) for k in HYPER if getattr(args, k) is not None}
    spec = RunSpec(problem, args.optimizer, hyper, args.steps, args.dps, args.quantize,
                   args.schedule)
    if args.exact:
        from .golden import run_exact

        trace = run_exact(spec)
    else:
        trace = run_golden(spec, progress=lambda t: _bar(t, 2 * spec.steps, "golden"),
                           engine=args.engine)
    text = dumps(trace)
    _done_progress()
    if args.out:
        out = Path(args.out)
        if out.exists() and not args.force:
            raise InputError("exists; pass --force to overwrite", where=str(out))
        _writable_dir(out.parent if str(out.parent) else Path("."))
        try:
            write_atomic(out, text)
        except OSError as exc:
            raise InputError(f"cannot write: {exc.strerror}", where=str(out)) from None
        print(f"wrote {out}")
    else:
        sys.stdout.write(text)
    return 0


def cmd_derive(args: argparse.Namespace) -> int:
    from .derivation_docs import derivation_markdown, generated_files, identities_markdown

    if args.check or args.update:
        if args.problem:
            raise InputError("--check/--update cover every catalogue problem; drop --problem")
        return _check_or_update(generated_files(), args.update, "derivation files")
    if args.identities:
        from .identities import all_identities

        sys.stdout.write(identities_markdown(all_identities()))
        return 0
    if not args.problem:
        raise InputError("derive needs --problem P, --identities, --check or --update")
    from .problems import find_problem
    from .symbolic import derive

    sys.stdout.write(derivation_markdown(derive(find_problem(args.problem))))
    return 0


def _check_or_update(expected: dict, update: bool, what: str) -> int:
    from .generated import find_drifts, rewrite

    drifts = find_drifts(expected)
    if update:
        rewrite(drifts, expected)
        for d in drifts:
            print(f"updated {d.id} ({d.reason}): {d.path}")
        print(f"{len(drifts)} {what} rewritten, {len(expected) - len(drifts)} unchanged")
        return 0
    for d in drifts:
        print(f"{d.id}: {d.reason} ({d.path})")
        for line in d.diff[:40]:
            print(f"  {line}")
    print(f"{len(expected) - len(drifts)}/{len(expected)} committed {what} match their regeneration")
    return 1 if drifts else 0


def cmd_claims(args: argparse.Namespace) -> int:
    from .assemble import verify_document

    claims = Path(args.file) if args.file else paths.ARTICLE_CLAIMS
    v = verify_document(claims, progress=_progress)
    _done_progress()
    for r in v.results:
        print(f"{r.verdict:14} {r.claim.id}")
    c = v.counts()
    print(f"{len(v.results)} claims: {c['confirmed']} confirmed, {c['contradicted']} "
          f"contradicted, {c['not checkable']} not checkable")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from .auditing import audit
    from .report import render_audit

    hyper = {k: getattr(args, k) for k in HYPER if getattr(args, k) is not None}
    if args.size:
        return _audit_tensor(args, hyper)
    _progress(f"auditing {args.impl}")
    out_dir = _writable_dir(Path(args.out) if args.out else paths.REPORTS)  # fail before work
    result = audit(args.impl, args.optimizer, args.problem, hyper, args.steps, args.dtype,
                   args.quick, progress=_progress)
    _done_progress()
    text = render_audit(result)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in result.impl)
    suffix = "" if result.dtype == "float32" else f"-{result.dtype}"
    target = out_dir / f"audit-{safe}-{result.optimizer}{suffix}.md"
    try:
        write_atomic(target, text)
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror}", where=str(target)) from None
    print(result.first_line())
    print(f"wrote {target}")
    return 1 if args.strict and result.verdict != "consistent" else 0


def _audit_tensor(args: argparse.Namespace, hyper: dict[str, str]) -> int:
    from .auditing.sampled import audit_tensor
    from .report import render_tensor_audit

    if args.dtype != "float32" or args.problem != "probe":
        raise InputError("--size audits run float32 on seeded gradient streams; "
                         "drop --dtype/--problem")
    out_dir = _writable_dir(Path(args.out) if args.out else paths.REPORTS)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in args.impl)
    stem = f"audit-{safe}-{args.optimizer}-{args.size}"
    steps = args.steps or 100
    result = audit_tensor(args.impl, args.optimizer, args.size, steps, args.seed, hyper,
                          samples=min(args.samples, 8), npz=out_dir / f"{stem}.npz",
                          progress=_progress)
    _done_progress()
    target = out_dir / f"{stem}.md"
    try:
        write_atomic(target, render_tensor_audit(result))
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror}", where=str(target)) from None
    where = "" if result.first_outside is None else (
        f"; leaves it at step {result.first_outside[0]}, coordinate {result.first_outside[1]}, "
        f"by up to {result.beyond_ulps:.3g} ulps")
    print(f"{args.impl} {args.optimizer} on {args.size} parameters × {steps} steps: "
          f"{result.verdict} with its rounding envelope{where}; nearest variant "
          f"{result.closest[0]} ({result.closest[2]:.3g} ulps); max {result.max_ulps_shadow:.3g} "
          f"ulps from the float64 shadow (every coordinate), {result.max_ulps_golden:.3g} from "
          f"the certified golden ({result.sampled} sampled + {result.extremes} extreme "
          f"coordinates); {sum(result.seconds.values()):.1f} s")
    print(f"wrote {target} and {result.npz}")
    return 1 if args.strict and result.verdict != "consistent" else 0


def cmd_sweep(args: argparse.Namespace) -> int:
    import csv
    import io

    from .auditing.sweep import CSV_COLUMNS, csv_rows, dask_executor, load_sweep, run_sweep
    from .report import render_sweep

    spec = Path(args.spec)
    cells = load_sweep(spec)
    out_dir = _writable_dir(Path(args.out) if args.out else paths.REPORTS)
    executor = dask_executor(args.scheduler) if args.scheduler else None
    rows = run_sweep(cells, executor, args.workers,
                     progress=lambda d, n: _bar(d, n, "sweep", smallest=1))
    _done_progress()
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_rows(rows))
    md, table = out_dir / f"sweep-{spec.stem}.md", out_dir / f"sweep-{spec.stem}.csv"
    try:
        write_atomic(md, render_sweep(rows, spec.name))
        write_atomic(table, buf.getvalue())
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror}", where=str(out_dir)) from None
    counts = {v: sum(r.verdict == v for r in rows)
              for v in ("consistent", "discrepant", "not audited", "failed")}
    print(f"{len(rows)} cells: " + ", ".join(f"{n} {v}" for v, n in counts.items())
          + f"; wrote {md} and {table}")
    return 1 if args.strict and counts["consistent"] < len(rows) else 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    import importlib

    from .auditing.calibration import calibrate, load_counts, probes_from
    from .report import render_calibration

    if str(paths.ROOT) not in sys.path:
        sys.path.insert(0, str(paths.ROOT))  # the calibration implementations live in tests/
    try:
        registry = importlib.import_module(args.mutants).MUTANTS
    except (ImportError, AttributeError) as exc:
        raise InputError(f"--mutants {args.mutants!r}: no MUTANTS registry there ({exc})") from None
    out_dir = _writable_dir(Path(args.out) if args.out else paths.REPORTS)
    score = calibrate(probes_from(registry), args.workers,
                      progress=lambda d, n: _bar(d, n, "calibration", smallest=1))
    _done_progress()
    committed = paths.CALIBRATION.read_text() if paths.CALIBRATION.exists() else None
    print(score.line())
    if args.check:
        if committed is None or load_counts(committed) != score.counts:
            print(f"{paths.CALIBRATION} differs from this calibration (run calibrate --update)")
            return 1
        return 0
    try:
        write_atomic(out_dir / "calibration.md", render_calibration(score))
        if args.update:
            write_atomic(paths.CALIBRATION, score.to_json())
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror}", where=str(out_dir)) from None
    print(f"wrote {out_dir / 'calibration.md'}" + (f" and {paths.CALIBRATION}" if args.update else ""))
    return 0 if all(o.ok for o in score.outcomes) else 1


def cmd_bench(args: argparse.Namespace) -> int:
    from .bench import run_bench
    from .report import render_bench

    result = run_bench(progress=_progress)
    _done_progress()
    text = render_bench(result)
    sys.stdout.write(text)
    if args.out:
        target = Path(args.out)
        _writable_dir(target.parent if str(target.parent) else Path("."))
        write_atomic(target, text)
        print(f"wrote {target}")
    return 0


def cmd_third_party(args: argparse.Namespace) -> int:
    from .report.thirdparty import render_third_party
    from .thirdparty import third_party

    target = Path(args.out)
    _writable_dir(target.parent if str(target.parent) else Path("."))  # fail before work
    result = third_party(progress=_progress)
    _done_progress()
    write_atomic(target, render_third_party(result))
    print(f"{len(result.rows)} audits, {len(result.lowbit)} low-bit measurements; not installed: "
          f"{', '.join(result.missing) or 'none'}; wrote {target}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Verify gradient optimizers: SymPy derivations, "
                                       "certified golden traces, float32 audits, reports.")
    p.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = p.add_subparsers(dest="verb", required=True, parser_class=_Parser)

    r = sub.add_parser("report", help="verify a claims file and write the Markdown report")
    r.add_argument("--claims", help="claims TOML (default: the bundled article's)")
    r.add_argument("--out", help="output directory (default: reports/)")
    r.set_defaults(func=cmd_report)

    g = sub.add_parser("golden", help="compute a golden trace, or check/update the committed ones")
    g.add_argument("--check", action="store_true", help="regenerate committed goldens, fail on drift")
    g.add_argument("--update", action="store_true", help="rewrite committed goldens that differ")
    g.add_argument("--problem")
    g.add_argument("--optimizer")
    for h in HYPER:
        g.add_argument(f"--{h.replace('_', '-')}", dest=h, help=f"{h} as a decimal string")
    g.add_argument("--schedule", default="constant", help="constant (default) or inv-sqrt: α/√t")
    g.add_argument("--steps", type=_positive_int, default=5)
    g.add_argument("--dps", type=_positive_int, default=50, help="decimal digits (checked at 2x)")
    g.add_argument("--init", help="comma-separated start point, e.g. 0.5,-1")
    g.add_argument("--quantize", choices=["float32"], help="round hyperparameters to float32 first")
    g.add_argument("--engine", default="mpfr", choices=["mpfr", "mpmath"],
                   help="high-precision engine (default mpfr, via gmpy2)")
    g.add_argument("--exact", action="store_true",
                   help="exact rational arithmetic (GD/momentum on polynomial losses)")
    g.add_argument("--out", help="write the trace here instead of stdout")
    g.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    g.set_defaults(func=cmd_golden)

    d = sub.add_parser("derive", help="print the symbolic derivation of a problem")
    d.add_argument("--problem")
    d.add_argument("--identities", action="store_true", help="print the optimizer identities")
    d.add_argument("--check", action="store_true", help="fail if derivations/symbolic/ is stale")
    d.add_argument("--update", action="store_true", help="rewrite derivations/symbolic/")
    d.set_defaults(func=cmd_derive)

    a = sub.add_parser("audit", help="audit an optimizer implementation against the goldens")
    a.add_argument("--impl", required=True,
                   help="numpy, torch, torch-foreach, torch-fused, mlx, mlx-default, optax, "
                        "keras, keras-torch, or MODULE:CALLABLE")
    a.add_argument("--optimizer", default="adam")
    a.add_argument("--problem", help="a problem whose gradients replace the probe stream in "
                                      "the battery's settings (default: the probe)")
    a.add_argument("--steps", type=_positive_int,
                   help="length of the probe setting, or of the setting made of the "
                        "hyperparameters you give (default 12; 100 with --size)")
    a.add_argument("--quick", action="store_true",
                   help="run the probe setting only (the verdict says so)")
    for h in HYPER:
        a.add_argument(f"--{h.replace('_', '-')}", dest=h, help=f"{h} as a decimal string")
    a.add_argument("--out", help="output directory for the Markdown audit (default: reports/)")
    a.add_argument("--strict", action="store_true", help="exit 1 when the verdict is discrepant")
    a.add_argument("--size", type=_positive_int,
                   help="audit a tensor of this many parameters on seeded gradient streams "
                        "(sampled certified goldens + a float64 shadow of every coordinate)")
    a.add_argument("--seed", type=int, default=0, help="seed of the --size gradient streams")
    a.add_argument("--dtype", default="float32", choices=("float32", "float16", "bfloat16"),
                   help="the run's floating-point format (float16/bfloat16: all but keras and user code)")
    a.set_defaults(func=cmd_audit)

    b = sub.add_parser("bench", help="benchmarks, side by side, as ratios")
    b.add_argument("--out", help="also write the Markdown table here (e.g. reports/benchmarks.md)")
    b.set_defaults(func=cmd_bench)

    w = sub.add_parser("sweep", help="audit every cell of a grid (TOML) and tabulate")
    w.add_argument("spec", help="sweep file: [sweep] impl, optimizer, problem, dtype, hyper")
    w.add_argument("--workers", type=_positive_int, help="local processes (default: CPUs)")
    w.add_argument("--scheduler", help="Dask scheduler address (tcp://host:port) to run on")
    w.add_argument("--out", help="output directory (default: reports/)")
    w.add_argument("--strict", action="store_true",
                   help="exit 1 unless every cell is consistent (discrepant, not audited, failed)")
    w.set_defaults(func=cmd_sweep)

    t = sub.add_parser("third-party", help="audit the installed third-party Adams")
    t.add_argument("--out", default=str(paths.REPORTS / "third-party.md"),
                   help="Markdown file (default: reports/third-party.md)")
    t.set_defaults(func=cmd_third_party)

    k = sub.add_parser("calibrate", help="the audit's mutation score: broken and correct "
                                         "implementations, audited")
    k.add_argument("--mutants", default="tests.mutants",
                   help="module with a MUTANTS registry (default: tests.mutants)")
    k.add_argument("--workers", type=_positive_int, help="processes (default: all cores)")
    k.add_argument("--out", help="where calibration.md goes (default: reports/)")
    k.add_argument("--update", action="store_true", help=f"also rewrite {paths.CALIBRATION.name}")
    k.add_argument("--check", action="store_true",
                   help="exit 1 if the committed score differs from this run's")
    k.set_defaults(func=cmd_calibrate)

    c = sub.add_parser("claims", help="check a claims file and print the verdicts")
    c.add_argument("file", nargs="?")
    c.set_defaults(func=cmd_claims)
    return p


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def one_line(text: str) -> str:
    """Control characters (a newline in a file name, say) escaped, so an error is one line."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except InputError as exc:
        _done_progress()
        print(f"{PROG}: error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
