"""Command line: parse arguments, call the pipeline, write files, choose the exit status.

Exit status: 0 all good; 1 a verification the user asked to fail on found a discrepancy
(``golden --check`` drift, ``claims --strict`` on a contradicted or partly confirmed claim,
``audit --strict``, ``sweep --strict``); 2 bad input or usage (one line on stderr, nothing
written).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from .. import paths
from ..errors import InputError, unknown
from ..files import write_atomic
from ..version import __version__
from .audit import add_verbs
from .check import add_check
from .common import (
    HYPER,
    PROG,
    Parser,
    bar,
    done_progress,
    positive_int,
    progress,
    writable_dir,
    write_out,
)
from .document import build_report, report_name


def claims_file(text: str | None) -> Path:
    """A claims file: a path, or the name of a bundled document's claims (``kingma_ba_2015``,
    ``adam_deeply_explained``), which a wheel carries inside the package; default the article."""
    if not text:
        return paths.ARTICLE_CLAIMS
    bundled = paths.CLAIMS / f"{text}.toml"
    if "/" not in text and not text.endswith(".toml") and bundled.is_file():
        return bundled
    return Path(text)


def cmd_report(args: argparse.Namespace) -> int:
    claims = claims_file(args.claims)
    impls = _parse_impls(args.impls)
    out_dir = writable_dir(Path(args.out) if args.out else paths.REPORTS)  # fail before work
    name = report_name(claims)
    verification, text, pngs = build_report(claims, name, impls)
    target = out_dir / f"{name}.md"
    try:
        for rel, png in pngs.items():
            (out_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            write_atomic(out_dir / rel, png)
        write_atomic(target, text)
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror}", where=str(target)) from None
    print(f"wrote {target}: {len(verification.results)} claims, "
          f"{_tally(verification.counts())}")
    if verification.reused:
        kinds: dict[str, int] = {}
        for hit in verification.reused:
            kinds[hit.kind] = kinds.get(hit.kind, 0) + 1
        print("reused from the result cache (same code, data and library versions): "
              + ", ".join(f"{n} {k}{'s' if n > 1 else ''}" for k, n in kinds.items()))
    return 0


def _parse_impls(text: str | None) -> list[str] | None:
    """``--impls``: None (every installed framework), ``none``, or a comma-separated list."""
    if text is None:
        return None
    if text.strip() == "none":
        return []
    from ..auditing import BUILTIN, installed

    impls = [part.strip() for part in text.split(",")]
    for impl in impls:
        if impl not in BUILTIN:
            raise InputError("--impls: " + unknown("implementation", impl, BUILTIN, "or none"))
        if impl not in installed():
            raise InputError(f"--impls: {impl} is not installed here")
    return list(dict.fromkeys(impls))


def _tally(counts: dict[str, int]) -> str:
    """"53 confirmed, 4 partly confirmed, …": the verdicts that occur, with their counts."""
    return ", ".join(f"{n} {verdict}" for verdict, n in counts.items() if n)


def _parse_init(text: str) -> tuple:
    from ..symbolic.expr import parse_number

    return tuple(parse_number(part, where="--init") for part in text.split(","))


def cmd_golden(args: argparse.Namespace) -> int:
    from ..golden import goldenset

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
        paths.writable_data()
        drifts = goldenset.update(entries)
        for d in drifts:
            print(f"updated {d.id} ({d.reason}): {d.path}")
        print(f"{len(drifts)} golden(s) rewritten, {len(entries) - len(drifts)} unchanged")
        return 0
    return _golden_single(args)


def _golden_single(args: argparse.Namespace) -> int:
    from ..golden.run import run_golden
    from ..golden.spec import RunSpec
    from ..golden.trace import dumps
    from ..symbolic.problems import find_problem

    if not args.problem or not args.optimizer:
        raise InputError("golden needs --problem and --optimizer (or --check / --update)")
    problem = find_problem(args.problem)
    if args.init:
        problem = problem.with_init(_parse_init(args.init))
    hyper = {k: getattr(args, k) for k in HYPER if getattr(args, k) is not None}
    spec = RunSpec(problem, args.optimizer, hyper, args.steps, args.dps, args.quantize,
                   args.schedule)
    if args.exact:
        from ..golden.run import run_exact

        trace = run_exact(spec)
    else:
        trace = run_golden(spec, progress=lambda t: bar(t, 2 * spec.steps, "golden"),
                           engine=args.engine)
    text = dumps(trace)
    done_progress()
    if args.out:
        out = Path(args.out)
        write_out(out, text, args.force)
        print(f"wrote {out}")
    else:
        sys.stdout.write(text)
    return 0


def cmd_derive(args: argparse.Namespace) -> int:
    from ..report.derivation import derivation_markdown, generated_files, identities_markdown

    if args.check or args.update:
        if args.problem:
            raise InputError("--check/--update cover every catalogue problem; drop --problem")
        return _check_or_update(generated_files(), args.update, "derivation files")
    if args.identities:
        from ..symbolic.identities import all_identities

        sys.stdout.write(identities_markdown(all_identities()))
        return 0
    if not args.problem:
        raise InputError("derive needs --problem P, --identities, --check or --update")
    from ..symbolic.derive import derive
    from ..symbolic.problems import find_problem

    sys.stdout.write(derivation_markdown(derive(find_problem(args.problem))))
    return 0


def _check_or_update(expected: dict, update: bool, what: str) -> int:
    from ..files import find_drifts, rewrite

    if update:
        paths.writable_data()
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
    from ..claims.assemble import check_document, verdict_counts
    from ..experiments.outcomes import CONTRADICTED, PARTLY

    words = list(args.words)
    if words[:1] == ["init"]:
        return _claims_init(words[1:], args)
    if len(words) > 1 or args.out or args.force:
        raise InputError("usage: claims [FILE] | claims init DOC [--out FILE [--force]]")
    _, results = check_document(claims_file(words[0] if words else None), progress=progress)
    done_progress()
    for r in results:
        print(f"{r.verdict:31} {r.claim.id}")
    counts = verdict_counts(results)
    print(f"{len(results)} claims: {_tally(counts)}")
    return 1 if args.strict and counts[CONTRADICTED] + counts[PARTLY] else 0


def _claims_init(words: list[str], args: argparse.Namespace) -> int:
    """Draft a claims file for a Markdown or text document (stdout, or --out FILE)."""
    from ..claims.draft import draft, to_toml

    if len(words) != 1:
        raise InputError("claims init needs exactly one document: claims init DOC")
    doc = Path(words[0])
    try:
        text = doc.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the document: {getattr(exc, 'strerror', None) or exc}",
                         where=str(doc)) from None
    drafts = draft(text)
    title = next((ln.strip().lstrip("#").strip() for ln in text.splitlines() if ln.strip()),
                 doc.stem)
    toml = to_toml(drafts, title, str(doc))
    if not args.out:
        sys.stdout.write(toml)
        return 0
    out = Path(args.out)
    write_out(out, toml, args.force)
    kinds = {}
    for d in drafts:
        kinds[d.suggested] = kinds.get(d.suggested, 0) + 1
    print(f"wrote {out}: {len(drafts)} draft claims ("
          + ", ".join(f"{n} {k}" for k, n in kinds.items()) + ")")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from ..experiments.bench import run_bench
    from ..report import render_bench

    root = paths.checkout()
    if root is None:
        raise InputError("bench runs in a checkout of adam-verify (it times tests/mutants/ too)")
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    result = run_bench(progress=progress)
    done_progress()
    text = render_bench(result)
    sys.stdout.write(text)
    if args.out:
        target = Path(args.out)
        writable_dir(target.parent if str(target.parent) else Path("."))
        write_atomic(target, text)
        print(f"wrote {target}")
    return 0


def cmd_third_party(args: argparse.Namespace) -> int:
    from ..auditing.thirdparty import third_party
    from ..report.thirdparty import render_third_party

    target = Path(args.out)
    writable_dir(target.parent if str(target.parent) else Path("."))  # fail before work
    from .check import kept_rows

    result = third_party(progress=progress)
    done_progress()
    committed = target.read_text(errors="replace") if target.is_file() else ""
    kept = kept_rows(committed, result.missing)
    write_atomic(target, render_third_party(result, kept))
    print(f"{len(result.rows)} audits, {len(result.lowbit)} low-bit measurements; not installed: "
          f"{', '.join(result.missing) or 'none'} ({len(kept)} of their rows kept from the file, "
          f"not recomputed); wrote {target}")
    return 0


FRESH_HELP = ("recompute the audits, experiments and derivations the result cache holds "
              "(ADAM_VERIFY_CACHE=off: no cache at all)")


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog=PROG, description="Verify gradient optimizers: SymPy derivations, "
                                       "certified golden traces, float32 audits, reports.")
    p.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = p.add_subparsers(dest="verb", required=True, parser_class=Parser)

    r = sub.add_parser("report", help="verify a claims file and write the Markdown report")
    r.add_argument("--claims", help="claims TOML, or a bundled document's name: "
                                    "adam_deeply_explained (the default), kingma_ba_2015")
    r.add_argument("--out", help="output directory (default: reports/)")
    r.add_argument("--impls", help="implementations to audit (and whose frameworks' Adam "
                                    "defaults to list), comma-separated, or none "
                                    "(default: every installed one)")
    r.add_argument("--fresh", action="store_true", help=FRESH_HELP)
    r.set_defaults(func=cmd_report)

    g = sub.add_parser("golden", help="compute a golden trace, or check/update the committed ones")
    g.add_argument("--check", action="store_true", help="regenerate committed goldens, fail on drift")
    g.add_argument("--update", action="store_true", help="rewrite committed goldens that differ")
    g.add_argument("--problem", help="a catalogue problem (e.g. rosenbrock) or a problem TOML file")
    g.add_argument("--optimizer", metavar="RULE", help="a rule of the catalogue (e.g. adam)")
    for h in HYPER:
        g.add_argument(f"--{h.replace('_', '-')}", dest=h, help=f"{h} as a decimal string")
    g.add_argument("--schedule", default="constant", help="constant (default) or inv-sqrt: α/√t")
    g.add_argument("--steps", type=positive_int, default=5, help="steps to run (default 5)")
    g.add_argument("--dps", type=positive_int, default=50, help="decimal digits (checked at 2x)")
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
    d.add_argument("--problem", help="a catalogue problem or a problem TOML file")
    d.add_argument("--identities", action="store_true", help="print the optimizer identities")
    d.add_argument("--check", action="store_true", help="fail if verify/derivations/symbolic/ is stale")
    d.add_argument("--update", action="store_true", help="rewrite verify/derivations/symbolic/")
    d.set_defaults(func=cmd_derive)

    b = sub.add_parser("bench", help="benchmarks, side by side, as ratios")
    b.add_argument("--out", help="also write the Markdown table here (e.g. reports/benchmarks.md)")
    b.set_defaults(func=cmd_bench)

    add_verbs(sub)
    add_check(sub)

    t = sub.add_parser("third-party", help="audit the installed third-party Adams")
    t.add_argument("--out", default=str(paths.REPORTS / "third-party.md"),
                   help="Markdown file (default: reports/third-party.md)")
    t.set_defaults(func=cmd_third_party)

    c = sub.add_parser("claims", help="check a claims file and print the verdicts; "
                                      "`claims init DOC` drafts a claims file for a document")
    c.add_argument("words", nargs="*", metavar="FILE | init DOC",
                   help="a claims TOML (default: the bundled article's), or init and a document")
    c.add_argument("--strict", action="store_true",
                   help="exit 1 when a claim is contradicted or partly confirmed")
    c.add_argument("--out", help="claims init: write the draft here instead of stdout")
    c.add_argument("--force", action="store_true", help="claims init: overwrite --out")
    c.add_argument("--fresh", action="store_true", help=FRESH_HELP)
    c.set_defaults(func=cmd_claims)
    for verb, sp in sub.choices.items():
        if verb in EXAMPLES:
            sp.epilog = "examples:\n" + "\n".join(f"  {PROG} {e}" for e in EXAMPLES[verb])
            sp.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = "examples:\n" + "\n".join(f"  {PROG} {EXAMPLES[v][0]}" for v in EXAMPLES)
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    return p


EXAMPLES = {
    "report": ["report", "report --claims my_post.toml --impls none --out out/"],
    "audit": ["audit --impl torch.optim:AdamW --optimizer adamw",
              "audit --impl mymodule:step --optimizer adam --quick",
              "audit --impl numpy --dtype bfloat16", "audit --impl torch-foreach --size 1000000"],
    "claims": ["claims my_post.toml --strict", "claims init my_post.md --out my_post.toml"],
    "golden": ["golden --problem rosenbrock --optimizer adam --lr 0.01 --steps 20",
               "golden --check"],
    "derive": ["derive --problem double_well", "derive --identities"],
    "sweep": ["sweep examples/sweep.toml --workers 2"],
    "calibrate": ["calibrate --check"],
    "check": ["check", "check --only goldens,derivations --update"],
    "third-party": ["third-party"],
    "bench": ["bench --out reports/benchmarks.md"],
}


def one_line(text: str) -> str:
    """Control characters (a newline in a file name, say) escaped, so an error is one line."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if getattr(args, "fresh", False):
            os.environ["ADAM_VERIFY_FRESH"] = "1"  # read by verify/cache.py, here and in workers
        return args.func(args)
    except InputError as exc:
        done_progress()
        print(f"{PROG}: error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
