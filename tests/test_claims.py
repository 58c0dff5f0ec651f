"""Claim verdicts: printed precision, confirmations and the article's known errors."""

from fractions import Fraction
from pathlib import Path

import pytest

from verify import paths
from verify.claims import CONFIRMED, CONTRADICTED, check_claims, load_claims, printed_tolerance
from verify.errors import InputError
from verify.golden.goldenset import load_committed, load_manifest


@pytest.fixture(scope="module")
def article():
    """The bundled document's claims checked against the committed goldens (computed once for
    this module: ``results`` and ``sources`` read the same check)."""
    goldens = load_committed(load_manifest())
    return check_claims(load_claims(paths.ARTICLE_CLAIMS), goldens), goldens


@pytest.fixture(scope="module")
def results(article):
    return {r.claim.id: r for r in article[0]}


def test_printed_tolerance():
    assert printed_tolerance("-28.16") == Fraction(5, 1000)
    assert printed_tolerance("1539") == Fraction(1, 2)
    assert printed_tolerance("1e-8") == Fraction(1, 2 * 10**8)


def test_first_iteration_is_right(results):
    # Hand computation: grad = (−44, −12), GD step 0.01 → (0.44, 0.12); Adam m = 0.1·g.
    for cid in ("lr.gd.it1.grad", "lr.gd.it1.update", "lr.adam.it1.m", "lr.adam.it1.v_hat",
                "lr.adam.it1.update"):
        assert results[cid].verdict == CONFIRMED


def test_known_article_errors(results):
    grad = results["lr.gd.it2.grad"]
    assert grad.verdict == CONTRADICTED
    w = grad.items[0]
    assert (w.claimed, w.golden) == ("-28.16", "-33.6")  # exact: −(2/5)·84
    assert w.diff == Fraction("5.44")
    final = results["lr.adam.final"].items[0]
    assert final.verdict == CONTRADICTED and final.golden.startswith("0.049971")
    # the article's iteration-2 predictions: 0.44·2 + 0.12 is 1.00, not 1.44
    assert results["lr.gd.it2.prediction"].items[1].golden == "1"


def test_bad_claims_file(tmp_path):
    bad = tmp_path / "c.toml"
    bad.write_text('document = "d"\n[[claim]]\nid = "a"\nsection = "s"\nquote = "q"\n'
                   'kind = "trace"\ngolden = "g"\nstep = 1\nquantity = "grad"\nclaimed = 0.5\n')
    with pytest.raises(InputError, match="claimed"):
        load_claims(bad)


# --- claims of other kinds (tests/fixtures/claims_small.toml holds one or two of each) --------

FIXTURE = Path(__file__).parent / "fixtures" / "claims_small.toml"


@pytest.fixture(scope="module")
def small():
    goldens = load_committed(load_manifest())
    return {r.claim.id: r for r in check_claims(load_claims(FIXTURE), goldens)}


def test_formula_claims(results, small):
    # The article's Adam formulas are the rule (Kingma & Ba Algorithm 1) …
    for cid in ("formula.adam.m", "formula.adam.v", "formula.adam.m_hat", "formula.adam.v_hat",
                "formula.adam.update", "formula.gd.update", "formula.lr.grad_w",
                "formula.lr.grad_b", "formula.quartic.gradient"):
        assert results[cid].verdict == CONFIRMED, cid
    # … ε inside the root is a different rule (RMSProp-Keras style): differs unless ε = 0
    assert small["adam.eps_inside"].verdict == CONTRADICTED
    # d/dθ (θ⁴ − 3θ³ + 2) = 4θ³ − 9θ², not 4θ³ − 6θ²
    wrong = small["quartic.wrong_gradient"]
    assert wrong.verdict == CONTRADICTED and wrong.items[0].golden == "4*theta**3 - 9*theta**2"


def test_symbolic_and_default_claims(results, small):
    # quartic: θ = 0 is a stationary inflection point, 9/4 the only minimum (f'' = 81/4 > 0)
    q = results["quartic.minima"]
    assert q.verdict == CONTRADICTED and q.items[0].golden == "1"
    assert small["well.two_minima"].verdict == CONFIRMED
    # Kingma & Ba (2015) Algorithm 1: ε = 1e-8, so 1e-7 (Keras's default) is not the paper's
    assert results["default.eps"].verdict == CONFIRMED
    assert small["eps.default"].verdict == CONTRADICTED


def test_api_and_statement_claims(results, small):
    assert small["numpy.norm"].verdict == CONFIRMED
    missing = small["numpy.missing"]
    assert missing.verdict == CONTRADICTED and "frobenius" in missing.note
    assert small["taste"].verdict == "not checkable" and small["taste"].note == "a matter of taste"
    from importlib.util import find_spec

    if find_spec("mlx"):  # the article's MLX snippet uses PyTorch's API
        for cid in ("mlx.adam.call", "mlx.cross_entropy", "mlx.zero_grad", "mlx.backward",
                    "mlx.lstm", "mlx.step"):
            assert results[cid].verdict == CONTRADICTED, cid
        assert "'lr'" in results["mlx.adam.call"].note


@pytest.mark.parametrize("body, message", [
    ('kind = "formula"\nreference = "rule"\noptimizer = "adam"\nquantity = "m"\n'
     'claimed = "__import__(1)"', "unknown function"),
    ('kind = "formula"\nreference = "rule"\noptimizer = "adam"\nquantity = "mm"\n'
     'claimed = "m"', "computes no"),
    ('kind = "experiment"\nexperiment = "nope"', "unknown experiment"),
    ('kind = "default"\noptimizer = "adam"\nquantity = "eps"', "needs field 'claimed'"),
    ('kind = "statement"\nreason = "r"\nextra = "x"', "no field 'extra'"),
    ('kind = "api"\ntarget = "os; rm"', "dotted name"),
    ('kind = "identity"\nidentity = "nope"', "unknown identity"),
])
def test_bad_claims_of_other_kinds(tmp_path, body, message):
    bad = tmp_path / "c.toml"
    bad.write_text(f'document = "d"\n[[claim]]\nid = "a"\nsection = "s"\nquote = "q"\n{body}\n')
    with pytest.raises(InputError, match=message):
        load_claims(bad)


# --- where the worked example's errors come from ---------------------------------------------

@pytest.fixture(scope="module")
def sources(article):
    from verify.claims.provenance import trace_sources

    res, goldens = article
    return {(s.claim_id, s.label): s for s in trace_sources(res, goldens)}


def test_error_sources(sources):
    # GD iteration 2: from its own residuals [1.44, 2.56, 3.68, 4.8, 5.92] the gradient is
    # −(2/5)·(1.44 + 5.12 + 11.04 + 19.2 + 29.6) = −26.56, not the printed −28.16: introduced
    g = sources[("lr.gd.it2.grad", "w")]
    assert g.origin == "introduced" and g.recomputed == "-26.56"
    assert g.explanation.startswith("unexplained") and "-26.56" in g.explanation
    # its update w2 = 0.44 + 0.01·28.16 = 0.7216 follows from the wrong gradient: inherited
    assert sources[("lr.gd.it2.update", "w")].origin == "inherited"
    # its predictions are those of w = 0.88, b = −0.32 (0.88·x − 0.32 = 0.56, 1.44, …)
    p = sources[("lr.gd.it2.prediction", "[1]")]
    assert p.origin == "introduced" and "w = 22/25, b = -8/25" in p.explanation
    # Adam iteration 2: m = 0.9·(−4.4) + 0.1·(−28.16) = −6.776 uses GD's gradient
    m = sources[("lr.adam.it2.m", "w")]
    assert m.origin == "introduced"
    assert m.explanation.startswith("reproduced by the other table's printed gradient")
    # v̂_2 = 3.355/(1 − 0.999²) = 3.355/0.001999 = 1678.3, but 3.355/0.002 = 1677.5 exactly:
    # the printed value divides by 1 − β2ᵗ rounded to one significant digit
    vh = sources[("lr.adam.it2.v_hat", "w")]
    assert "1 − βᵗ rounded to 1 significant digit" in vh.explanation
    # m̂ = −6.776/(1 − 0.81) = −35.663… follows from the printed m: inherited
    assert sources[("lr.adam.it2.m_hat", "w")].origin == "inherited"


# --- kinds added for coverage: reductions, literature, metadata, code -------------------------

def _one(tmp_path, body: str):
    f = tmp_path / "c.toml"
    f.write_text(f'document = "d"\n[[claim]]\nid = "a"\nsection = "s"\nquote = "q"\n{body}\n')
    return check_claims(load_claims(f), {})[0]


def test_reductions(tmp_path):
    # Adam without bias correction and β1 = 0 is RMSProp with ρ = β2 (both: v = ρv + (1 − ρ)g²,
    # Δ = −α g/(√v + ε)); with β1 left free it is not
    body = ('kind = "reduction"\noptimizer = "adam-nobias"\nequals = "rmsprop"\n'
            'mapping = { alpha = "beta2", lr = "lr", eps = "eps" }\n')
    assert _one(tmp_path, body + 'setting = { beta1 = "0" }').verdict == CONFIRMED
    free = _one(tmp_path, body)
    assert free.verdict == CONTRADICTED and "differ first at step 1" in free.note


def test_literature_and_metadata(tmp_path):
    lit = _one(tmp_path, 'kind = "literature"\ncites = "K&B 2015, §1"\nsays = "from adaptive '
                         'moment estimation"\nverdict = "partly confirmed"')
    assert lit.verdict == "partly confirmed" and "K&B 2015" in lit.note
    meta = _one(tmp_path, 'kind = "metadata"\npackage = "numpy"\n'
                          'contains = ["array", "no such phrase in numpy metadata zz"]')
    assert meta.verdict == "partly confirmed"  # one phrase found, one not
    gone = _one(tmp_path, 'kind = "metadata"\npackage = "no-such-dist-zz"\ncontains = ["x"]')
    assert gone.verdict == "not checkable"


def test_code_claim_counts_each_call(tmp_path):
    r = _one(tmp_path, "kind = \"code\"\ncode = '''\nimport math\nmath.sqrt(2)\nmath.sqrt(2, 3)\n'''")
    assert [i.verdict for i in r.items] == [CONFIRMED, CONFIRMED, CONTRADICTED]
    assert r.verdict == "partly confirmed" and "3 imports and calls" in r.note


@pytest.mark.parametrize("body, message", [
    ('kind = "literature"\ncites = "c"\nsays = "s"\nverdict = "maybe"', "field 'verdict'"),
    ('kind = "reduction"\noptimizer = "adam"\nequals = "rmsprop"\nmapping = { rho = "beta2" }',
     "rmsprop has no hyperparameter 'rho'"),
    ('kind = "metadata"\npackage = "numpy"\ncontains = "array"', "field 'contains' must be a list"),
    ('kind = "identity"\nidentity = "first_step"\nassumption = "a"', "go together"),
])
def test_schema_errors_name_the_claim_and_field(tmp_path, body, message):
    bad = tmp_path / "c.toml"
    bad.write_text(f'document = "d"\n[[claim]]\nid = "my.claim"\nsection = "s"\nquote = "q"\n{body}\n')
    with pytest.raises(InputError, match=message) as err:
        load_claims(bad)
    assert "(id 'my.claim')" in str(err.value)


def test_format_reference_documents_every_kind_and_field():
    from verify.claims.schema import FIELD_TYPES, KINDS, OPTIONAL
    from verify.experiments import EXPERIMENTS

    doc = (Path(__file__).resolve().parents[1] / "docs" / "claims-format.md").read_text()
    for kind, fields in KINDS.items():
        assert f"`{kind}`" in doc, kind
        for name in fields + OPTIONAL.get(kind, ()):
            assert f"`{name}`" in doc, (kind, name)
    assert all(f"`{name}`" in doc for name in FIELD_TYPES)
    assert all(f"`{name}`" in doc for name in EXPERIMENTS)
