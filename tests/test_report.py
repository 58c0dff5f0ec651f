"""The report: GitHub-flavoured Markdown that renders (tables parse, images resolve), for the
bundled article and for a second claims file (``report --claims``)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

FIXTURE = Path(__file__).parent / "fixtures" / "claims_small.toml"
REPORTS = Path(__file__).resolve().parents[1] / "reports"  # the committed bundled reports


def rendered_problems(text: str, base: Path) -> list[str]:
    """Everything wrong with ``text`` as GFM: tables that do not parse or have ragged rows,
    images whose file is missing."""
    md = MarkdownIt("commonmark").enable("table")
    tokens = md.parse(text)
    problems = []
    separators = len(re.findall(r"^\|(?:\s*:?-+:?\s*\|)+\s*$", text, flags=re.M))
    tables = sum(t.type == "table_open" for t in tokens)
    if tables != separators:
        problems.append(f"{separators} table separators but {tables} tables parsed")
    # markdown-it pads or drops cells silently, so row widths are checked in the source
    width = None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.startswith("|"):
            width = None
            continue
        cells = len(re.split(r"(?<!\\)\|", line.strip())) - 2
        width = cells if width is None else width
        if cells != width:
            problems.append(f"table row at line {number} has {cells} cells, not {width}")
    for t in tokens:
        if t.type == "inline":
            for child in t.children or []:
                if child.type == "image":
                    src = child.attrs["src"]
                    if not (base / src).is_file():
                        problems.append(f"image {src} does not exist")
    return problems


def test_committed_article_report_renders():
    text = (REPORTS / "article.md").read_text()
    assert rendered_problems(text, REPORTS) == []
    # the figures the issue asks for are linked
    for name in ("worked_example_loss", "rosenbrock", "audit_ulps", "quartic", "double_well"):
        assert f"figures/article-{name}.png" in text


def test_the_checker_catches_broken_markdown(tmp_path):
    bad = "| a | b |\n|---|---|\n| 1 | 2 | 3 |\n\n![x](figures/missing.png)\n"
    found = rendered_problems(bad, tmp_path)
    assert any("3 cells" in p for p in found) and any("missing.png" in p for p in found)


@pytest.fixture(scope="module")
def small_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    res = subprocess.run([sys.executable, "-m", "verify", "report", "--claims", str(FIXTURE),
                          "--out", str(out), "--impls", "numpy"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    return out, res.stdout


def test_report_on_a_second_claims_file(small_report):
    out, stdout = small_report
    # 11 claims: 4 confirmed (gradient, double-well minima, numpy.linalg.norm, ε̂ identity),
    # 1 partly confirmed (w = 0.45 wrong, b = 0.12 right), 5 contradicted (GD does not
    # oscillate at α = 0.01 < 1/λ_max), 1 statement not checkable — derived by hand
    assert "11 claims, 4 confirmed, 1 partly confirmed, 5 contradicted, 1 not checkable" in stdout
    text = (out / "claims_small.md").read_text()
    assert rendered_problems(text, out) == []
    assert "Notes on GD and Adam (test fixture)" in text
    assert (out / "figures" / "claims_small-gd_step_sizes.png").is_file()
    # the made-up step w = 0.45 is wrong: GD gives 0 + 0.01·44 = 0.44 exactly
    assert "| `gd.first_step` | parameters | w | 0.45 | 0.44 |" in text


def count_problems(text: str) -> list[str]:
    """Every count in the summary that does not add up: the claims line, the worked-example
    numbers line, and the verdict table (rows against their totals, columns against **all**)."""
    problems = []
    for total, rest in re.findall(r"\*\*(\d+) claims\*\* checked: ([^.]*)\.", text) + \
            re.findall(r"- (\d+) worked-example numbers: ([^.]*)\.", text):
        parts = sum(int(n) for n in re.findall(r"(\d+) [a-z]", rest))
        if parts != int(total):
            problems.append(f"{rest!r} adds up to {parts}, not {total}")
    cov = re.search(r"\*\*(\d+) statements\*\* .*?\*\*(\d+) checked\*\*, (\d+) unchecked", text)
    if cov is None:
        problems.append("no coverage line")
    else:
        total, checked, unchecked = map(int, cov.groups())
        if checked + unchecked != total:
            problems.append(f"coverage: {checked} + {unchecked} is not {total}")
        listed = text.split("| claim | statement | why it is not checked |")[-1]
        rows = len(re.findall(r"^\| `", listed.split("\n\n")[0], flags=re.M)) if unchecked else 0
        if rows != unchecked:
            problems.append(f"coverage: {unchecked} unchecked but {rows} listed")
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("| claims about |")), None)
    if start is None:
        return problems + ["no verdict table"]
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip().strip("*") for c in line.strip("|").split("|")]
        rows.append((cells[0], [int(c) for c in cells[1:]]))
    body, (_, total_row) = rows[:-1], rows[-1]
    for name, numbers in body:
        if sum(numbers[:-1]) != numbers[-1]:
            problems.append(f"row {name!r} does not add up")
    for k, value in enumerate(total_row):
        if sum(numbers[k] for _, numbers in body) != value:
            problems.append(f"column {k} does not add up to the all row")
    return problems


def test_counts_add_up(small_report):
    out, _ = small_report
    text = (out / "claims_small.md").read_text()
    assert count_problems(text) == []
    assert "- 4 worked-example numbers: 3 confirmed, 1 contradicted." in text
    # the checker does catch a count that does not add up
    assert count_problems(text.replace("**11 claims**", "**12 claims**"))
    assert count_problems(text.replace("| **all** | **4** |", "| **all** | **5** |"))


def test_committed_article_report_counts_add_up():
    assert count_problems((REPORTS / "article.md").read_text()) == []


def test_reproduction_findings_follow_the_trace():
    from verify.claims.assemble import _bound_finding, _minimiser_finding

    hyper = {"lr": "0.001", "beta1": "0.9", "beta2": "0.999"}
    bound = 0.001 * 0.1 / 0.001**0.5  # α(1 − β1)/√(1 − β2) = 0.00316227766…
    assert "1.0000 × the bound: it reaches the bound" in _bound_finding(hyper, (repr(bound),))
    assert "it stays below the bound" in _bound_finding(hyper, (repr(bound / 2),))
    assert "it exceeds the bound" in _bound_finding(hyper, (repr(bound * 2),))
    # Reddi et al.'s problem: the average loss x/3 on [−1, 1] is least at x = −1
    assert _minimiser_finding("reddi_online", ("1",)).endswith("ends at θ = 1, 2 from it")
    assert _minimiser_finding("reddi_online", ("-0.98",)).endswith("ends at θ = -0.98, 0.02 from it")


def test_what_could_not_be_checked_opens_the_report():
    """First contact with only the core installed: the summary says which frameworks are
    missing and the one command that checks them; the shipped-defaults table names them."""
    from dataclasses import replace

    from verify.claims import load_claims
    from verify.claims.assemble import Verification
    from verify.report.article import _summary

    claims = load_claims(FIXTURE)
    v = Verification(claims, (), (), (), {})
    assert "Not checked here" not in _summary(v)
    missing = replace(v, not_installed=("torch", "optax", "keras"))
    text = _summary(missing)
    assert "**Not checked here**: torch, optax, keras not installed" in text
    assert "pip install 'adam-verify[torch,jax,keras]'" in text
