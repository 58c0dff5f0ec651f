"""``adam-verify claims FILE`` computes only what the file's claims use (issue #14: a file with
one api claim took 55 s because every golden, audit and experiment was computed)."""

from verify.claims.assemble import check_document
from verify.paths import ARTICLE_CLAIMS

API = '''document = "one api claim"
[[claim]]
id = "torch.adam.call"
section = "s"
quote = "optim.Adam(model.parameters(), lr=learning_rate)"
kind = "api"
target = "torch.optim.Adam"
args = 1
kwargs = ["lr"]
call = true
'''

# lr.gd.it1.prediction of the bundled claims file, as printed by the article
TRACE = '''document = "one trace claim"
[[claim]]
id = "lr.gd.it1.prediction"
section = "s"
quote = "Error: [2, 4, 6, 8, 10] - [0, 0, 0, 0, 0]"
kind = "trace"
golden = "linear_regression.gd"
step = 0
quantity = "prediction"
claimed = ["0", "0", "0", "0", "0"]
'''


def _run(tmp_path, text):
    f = tmp_path / "c.toml"
    f.write_text(text, encoding="utf-8")
    seen: list[str] = []
    claims, results = check_document(f, progress=seen.append)
    return claims, results, seen


def test_one_api_claim_computes_no_golden_audit_or_experiment(tmp_path):
    _, results, seen = _run(tmp_path, API)
    assert seen == ["claims"]  # no golden, no float32 run, no audit, no experiment
    assert len(results) == 1 and results[0].claim.id == "torch.adam.call"


def test_one_trace_claim_regenerates_only_its_golden(tmp_path):
    _, results, seen = _run(tmp_path, TRACE)
    assert seen == ["golden linear_regression.gd", "claims"]
    # θ0 = 0: every prediction is 0, as printed (the linear-regression golden, step 0)
    assert results[0].verdict == "confirmed"


def test_same_verdicts_as_checking_against_the_committed_goldens(tmp_path):
    # the bundled file's worked-example claims: the lean path regenerates only the goldens they
    # name; judged against the committed golden files instead (byte-identical, golden --check),
    # every verdict is the same
    from verify.claims import check_claims
    from verify.golden.trace import loads
    from verify.paths import GOLDEN

    head, *blocks = ARTICLE_CLAIMS.read_text(encoding="utf-8").split("[[claim]]")
    text = head + "".join("[[claim]]" + b for b in blocks if 'kind = "trace"' in b)
    claims, lean, seen = _run(tmp_path, text)
    used = sorted({c.golden for c in claims.claims})
    assert sorted(seen[:-1]) == [f"golden {g}" for g in used] and seen[-1] == "claims"
    committed = {g: loads((GOLDEN / f"{g}.json").read_text(encoding="utf-8"), g)
                 for g in used}
    assert [r.verdict for r in lean] == [r.verdict for r in check_claims(claims, committed)]
    assert len(lean) > 40 and {"confirmed", "contradicted"} <= {r.verdict for r in lean}
