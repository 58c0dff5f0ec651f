"""What the README states about the code is tested against the code: its counts, its paths, its
commands and every option's help text; and ``adam-verify check`` fails on a generated file
edited by hand."""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from verify import paths
from verify.auditing.calibration import counts_line
from verify.cli.main import EXAMPLES, build_parser
from verify.report.audit import envelope_method

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()


def test_every_path_the_readme_names_exists():
    named = set(re.findall(r"`((?:verify|tests|examples|docs|reports)/[\w./*<>|-]*)`", README))
    missing = [p for p in named if "*" not in p and "<" not in p and "|" not in p
               and not (REPO / p.rstrip("/")).exists()]
    assert not missing, missing


def test_every_module_path_named_anywhere_exists():
    # docstrings, comments, docs and data name modules by path: none may name a moved one
    texts = [REPO / "README.md", *(REPO / "docs").glob("*.md"), *(REPO / "verify").rglob("*.py"),
             *(REPO / "verify" / "derivations").rglob("*.toml"), *(REPO / "tests").glob("*.py")]
    missing = sorted({f"{t.relative_to(REPO)}: {m}" for t in texts
                      for m in re.findall(r"\bverify/[\w/]+\.py\b", t.read_text())
                      if not (REPO / m).exists()})
    assert not missing, missing


def test_the_misuse_count_is_the_battery_tests_count():
    from tests.test_battery import CASES

    assert f"each misuse ({len(CASES)} cases:" in README


def test_the_mutation_score_is_the_committed_calibration():
    counts = json.loads(paths.CALIBRATION.read_text())["counts"]
    line = counts_line(counts).removeprefix("mutation score: ")
    flat = " ".join(README.split())
    assert f"Current score: **{line}**" in flat
    from tests.mutants import MUTANTS

    broken = sum(not m.correct for m in MUTANTS.values())
    correct = sum(m.correct for m in MUTANTS.values())
    assert f"{broken} implementations broken on purpose and {correct} correct ones" in flat


def test_the_blind_scores_are_the_committed_calibration():
    from verify.auditing.calibration import blind_line

    flat = " ".join(README.split())
    blind = json.loads(paths.CALIBRATION.read_text()).get("blind", {})
    assert blind, "no blind set in the committed calibration"
    for name, b in blind.items():
        assert f"**{blind_line(name, b['counts'])}**" in flat, name


def test_the_sensitivity_is_the_committed_measurement():
    from verify.auditing.sensitivity import sentence

    rows = json.loads(paths.SENSITIVITY.read_text())
    assert {(r["audit"].split(" (")[0], r["state"], r["sign"]) for r in rows} == {
        (a, s, sign) for a, s in [("full battery", "exposed"), ("full battery", "private"),
                                  ("--quick", "exposed"), ("large audit", "exposed")]
        for sign in (1, -1)}
    assert f"**{sentence(rows)}**" in " ".join(README.split())


def test_the_readme_test_command_is_what_ci_runs():
    ci = (REPO / ".ci" / "run").read_text().replace("python -m pip", "pip").replace(" --quiet", "")
    block = re.findall(r"```bash\n(.*?)\n```", README, re.S)[1]
    assert block.startswith("python3 -m venv .venv && . .venv/bin/activate && ")
    for step in block.split(" && ")[2:]:
        assert step in ci, step


def _verbs() -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_every_verb_is_in_the_readme_with_examples_in_its_help():
    for verb, parser in _verbs().items():
        assert f"adam-verify {verb}" in README, verb
        assert verb in EXAMPLES and "examples:" in parser.format_help(), verb


def test_every_option_has_help_text():
    bare = [f"{verb} {a.option_strings or a.dest}" for verb, p in _verbs().items()
            for a in p._actions if not a.help and a.dest != "help"]
    assert not bare, bare


def test_the_method_paragraph_states_the_code_constants():
    from verify.auditing.bounds import K_ROUNDINGS, MODELS
    from verify.report.audit import WORDS

    text = envelope_method()
    assert f"{WORDS[K_ROUNDINGS]} roundings of every operation's result" in text
    assert f"modelled {WORDS[len(MODELS)]} ways" in text
    assert "calibrated, not proven" in text
    for model in MODELS:
        assert model.label("format") in text


def _check(args, cwd=REPO):
    env = dict(os.environ, ADAM_VERIFY_CACHE="off")
    env.pop("ADAM_VERIFY_ROOT", None)
    return subprocess.run([sys.executable, "-m", "verify", "check", *args], cwd=cwd, env=env,
                          capture_output=True, text=True)


def test_check_is_green_on_the_committed_files_and_red_on_one_edited_by_hand(tmp_path):
    (tmp_path / "reports").mkdir()
    shutil.copy(REPO / "reports" / "calibration.md", tmp_path / "reports" / "calibration.md")
    from verify.report.derivation import generated_files

    green = _check(["--only", "calibration,derivations", "--root", str(tmp_path)])
    assert green.returncode == 0, green.stdout + green.stderr
    n = len(generated_files()) + 2  # the derivations, calibration.json and calibration.md
    assert green.stdout.strip().endswith(f"0 of {n} generated files stale (calibration, derivations)")
    edited = tmp_path / "reports" / "calibration.md"
    edited.write_text(edited.read_text().replace("0/9 false alarms", "0/8 false alarms", 1))
    red = _check(["--only", "calibration", "--root", str(tmp_path)])
    assert red.returncode == 1
    assert "stale: " in red.stdout and "calibration.md (calibration: differs)" in red.stdout
    assert "-**mutation score:" in red.stdout and "0/8 false alarms" in red.stdout
    assert red.stdout.strip().endswith("1 of 2 generated files stale (calibration)")


def test_check_refuses_an_unknown_group():
    r = _check(["--only", "reprots"])
    assert r.returncode == 2 and "did you mean 'reports'?" in r.stderr


@pytest.mark.parametrize("figure", ["article-quartic.png"])
def test_a_committed_figure_carries_the_digest_of_its_data(figure):
    from verify.report.figures import png_digest

    digest = png_digest((REPO / "reports" / "figures" / figure).read_bytes())
    assert digest is not None and re.fullmatch(r"[0-9a-f]{64}", digest)
