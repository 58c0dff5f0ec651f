"""The report's audits run in worker processes while the main process works on: results come
back in the pairs' order whether tasks are grouped by implementation or not, equal to audits
run in this process; a failing caller stops the workers instead of waiting for them."""

import time
from pathlib import Path

import pytest

from verify.auditing.batch import _one, start_audits

MUTANT = "tests.mutants.adam_family:adam_swapped_betas"


def _verdicts(audits):
    return [(a.impl, a.optimizer, a.verdict, a.model) for a in audits]


def test_grouped_tasks_come_back_in_the_pairs_order():
    """Two implementations on two workers: one task per implementation (the mutant's first in
    the pairs, the cheaper numpy's last); the results follow the pairs, and equal the same
    audits run here (expected values: ``audit`` in this process)."""
    pairs = [(MUTANT, "gd"), ("numpy", "rmsprop"), ("numpy", "gd"), (MUTANT, "momentum")]
    pending = start_audits(pairs, workers=2)
    assert len(pending.futures) == 2  # grouped by implementation
    audits, skips = pending.collect()
    here = [_one(i, o) for i, o in pairs]
    assert _verdicts(audits) == _verdicts([h for h in here if not isinstance(h, str)])
    assert [s for _, _, s in skips] == [h for h in here if isinstance(h, str)]
    assert len(audits) + len(skips) == 4


def test_one_implementation_is_split_per_pair():
    pending = start_audits([("numpy", "adam"), ("numpy", "rmsprop")], workers=2)
    assert len(pending.futures) == 2  # one implementation: a task per pair, both workers busy
    audits, _ = pending.collect()
    assert [(a.optimizer, a.verdict) for a in audits] == [("adam", "consistent"),
                                                          ("rmsprop", "consistent")]


def _ended(pid: int) -> bool:
    """Whether the process is gone or a zombie (the pool's own thread may reap it first, after
    which ``Process.is_alive`` can no longer tell)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    return "\nState:\tZ" in status or "\nState:\tX" in status


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_cancel_ends_the_workers_at_once():
    pending = start_audits([("numpy", o) for o in ("adam", "adamw", "amsgrad", "rmsprop")],
                           workers=2)
    time.sleep(1.0)  # let the workers start
    pids = list(pending.pool._processes)
    start = time.perf_counter()
    pending.cancel()
    while not all(_ended(pid) for pid in pids) and time.perf_counter() - start < 10:
        time.sleep(0.05)
    assert all(_ended(pid) for pid in pids)
    assert time.perf_counter() - start < 5  # not after an audit's worth of waiting


def test_a_dead_worker_is_a_skip_not_a_crash():
    """A worker process that dies (here: ``os._exit`` inside the implementation) breaks the
    pool: its audits come back as skips saying so, the caller goes on."""
    from verify.auditing.batch import LOST, Lost

    crash = "tests.crashing:exit_now"
    audits, skips = start_audits([(crash, "adam"), (crash, "gd")], workers=2).collect()
    assert audits == []
    assert [(i, o) for i, o, _ in skips] == [(crash, "adam"), (crash, "gd")]
    assert all(isinstance(s, Lost) and s == LOST for _, _, s in skips)


def test_audits_of_one_framework_share_a_worker():
    """One task per framework when there are at least as many frameworks as workers (each
    worker imports a framework once), the costliest first (``COST``, summed per task)."""
    from verify.auditing.batch import COST, _groups

    todo = [(i, o) for i in ("numpy", "torch", "keras", "mlx", "torch-foreach", "optax")
            for o in ("adam", "gd")]
    groups = _groups(todo, 2)
    assert [sorted({i for i, _ in g}) for g in groups] == [
        ["keras", "optax"], ["torch", "torch-foreach"], ["mlx"], ["numpy"]]
    costs = [sum(COST[i] for i in {i for i, _ in g}) for g in groups]
    assert costs == sorted(costs, reverse=True)
    assert sorted(p for g in groups for p in g) == sorted(todo)
    # fewer frameworks than workers: a task per implementation, then a task per pair
    torches = [(i, "adam") for i in ("torch", "torch-foreach", "torch-fused")]
    assert _groups(torches, 2) == [[p] for p in torches]  # COST: torch > foreach > fused
    assert _groups(todo[:4], 3) == [[("torch", "adam")], [("torch", "gd")],
                                    [("numpy", "adam")], [("numpy", "gd")]]


@pytest.mark.parametrize("impl", ["torch", "mlx", "optax"])
def test_an_audit_comes_back_without_importing_its_framework(impl, tmp_path):
    """An audit result crosses from a worker (and from the cache) by pickle: loading it must
    not import the framework it audited (torch's version string is a str subclass of torch's
    own; kept as it was, every torch audit loaded imported torch into the report's process)."""
    import pickle
    import subprocess
    import sys
    from importlib.util import find_spec

    if find_spec(impl) is None:
        pytest.skip(f"{impl} is not installed")
    from verify.auditing.run import audit

    (tmp_path / "r.pkl").write_bytes(pickle.dumps(audit(impl, "adam", quick=True, golden=False)))
    code = ("import pickle, sys\nimport verify.claims.assemble\nbefore = set(sys.modules)\n"
            f"pickle.loads(open({str(tmp_path / 'r.pkl')!r}, 'rb').read())\n"
            "print(sorted({m.split('.')[0] for m in set(sys.modules) - before}))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)
    imported = done.stdout.strip().splitlines()[-1]
    assert impl not in imported and "jax" not in imported and "torch" not in imported


def test_claims_questions_are_answered_where_the_framework_is_imported():
    """API and code questions on an audited framework's package are answered by the worker
    that imported it, with what this process would answer (expected: ``answer()`` here); a
    question on a package no worker imports is left to the caller."""
    pytest.importorskip("mlx")
    from verify.claims.codecheck import CodeQuery
    from verify.runners.defaults import ApiQuery

    api = ApiQuery("mlx.optimizers.Adam", 0, ("learning_rate",), True)
    code = CodeQuery("import mlx.core as mx\nx = mx.zeros(3)\nmx.nothing_like_this(x)\n")
    elsewhere = ApiQuery("json.dumps", 1, (), True)
    assert code.packages == ("mlx",) and api.packages == ("mlx",)
    pending = start_audits([("mlx", "gd"), ("numpy", "gd")], workers=2,
                           questions=[api, code, elsewhere])
    audits, _ = pending.collect()
    assert [a.impl for a in audits] == ["mlx", "numpy"]
    assert set(pending.answers) == {api, code}
    assert pending.answers[api] == api.answer() and pending.answers[api].exists
    assert pending.answers[code] == code.answer()
    # the module binds; mlx's zeros is an extension function without a signature; the made-up
    # name fails
    assert [f.status for f in pending.answers[code].findings] == ["binds", "unresolved", "fails"]


def test_a_claim_takes_the_answer_found_elsewhere(tmp_path):
    """``check_claim`` uses an answer given for its question instead of asking again (an
    answer made up here, so that only its use can confirm the claim)."""
    from verify.claims.check import check_claim, question
    from verify.claims.loader import load_claims
    from verify.runners.defaults import ApiCheck

    path = tmp_path / "c.toml"
    path.write_text('document = "d"\n[[claim]]\nid = "x"\nsection = "s"\nquote = "q"\nkind = "api"\n'
                    'target = "json.no_such_function"\n')
    claim = load_claims(path).claims[0]
    assert check_claim(claim, {}).verdict == "contradicted"
    made_up = {question(claim): ApiCheck(True, "answered elsewhere")}
    result = check_claim(claim, {}, None, made_up)
    assert (result.verdict, result.note) == ("confirmed", "answered elsewhere")


def test_an_audit_that_raises_is_a_skip_saying_what_it_raised(monkeypatch):
    """A framework raising something unexpected in one audit ends that audit, not the batch:
    a skip naming the exception, not kept in the cache (``Lost``)."""
    from tests.helpers import audit_many
    from verify.auditing import run
    from verify.auditing.batch import Lost

    real = run.audit

    def flaky(impl, optimizer, **kw):
        if optimizer == "adamw":
            raise RuntimeError("device lost\nsecond line")
        return real(impl, optimizer, **kw)

    monkeypatch.setattr(run, "audit", flaky)
    audits, skips = audit_many([("numpy", "adam"), ("numpy", "adamw")], workers=1)
    assert [(a.impl, a.optimizer, a.verdict) for a in audits] == [("numpy", "adam", "consistent")]
    assert skips == [("numpy", "adamw", "the audit raised RuntimeError: device lost")]
    assert isinstance(skips[0][2], Lost)


def test_a_lost_child_is_a_skip_not_kept_and_bad_input_is_kept(monkeypatch):
    """A run lost with its child process (``LostRun``: Keras' serving child died) is a skip
    that is tried again; a framework's refusal (an ``InputError``) is a plain skip, kept."""
    from tests.helpers import audit_many
    from verify.auditing import run
    from verify.auditing.batch import Lost
    from verify.errors import InputError, LostRun

    def failing(impl, optimizer, **kw):
        if optimizer == "adam":
            raise LostRun("keras on the torch backend failed: Killed")
        raise InputError("no such optimizer here")

    monkeypatch.setattr(run, "audit", failing)
    _, skips = audit_many([("numpy", "adam"), ("numpy", "adamw")], workers=1)
    assert [(o, why, isinstance(why, Lost)) for _, o, why in skips] == [
        ("adam", "keras on the torch backend failed: Killed", True),
        ("adamw", "no such optimizer here", False)]


def test_keras_questions_go_only_where_keras_runs_on_the_callers_backend():
    """A question naming Keras goes to the JAX task (never to the torch task, whose Keras runs
    on torch); one naming torch and Keras to no task; and a worker whose Keras is on another
    backend than the caller's leaves Keras questions unanswered (expected: by construction of
    the groups and of ``loaded_backend``)."""
    from verify.auditing.batch import _group, _groups, _share
    from verify.claims.codecheck import CodeQuery
    from verify.runners.defaults import ApiQuery

    keras_q = ApiQuery("keras.optimizers.Adam")
    both = CodeQuery("import torch\nimport keras\n")
    torch_q = ApiQuery("torch.optim.Adam")
    groups = _groups([(i, "adam") for i in ("keras-torch", "torch", "keras", "optax")], 2)
    shared = _share(groups, [keras_q, both, torch_q])
    by_task = {tuple(sorted({i for i, _ in g})): qs for g, qs in zip(groups, shared, strict=True)}
    assert by_task == {("keras", "optax"): [keras_q], ("keras-torch", "torch"): [torch_q]}
    pytest.importorskip("keras")
    import keras  # noqa: F401 - loaded here on the suite's backend (conftest: JAX)

    from verify.runners.keras_ import loaded_backend

    here = loaded_backend()
    other = "torch" if here != "torch" else "jax"
    assert _group([], [keras_q], keras_backend=other) == ([], {})
    assert _group([], [keras_q], keras_backend=here) == ([], {keras_q: keras_q.answer()})


def test_an_audit_claim_on_a_skipped_pair_says_why_without_running_it(tmp_path, monkeypatch):
    """The report passes why its batch could not audit a pair; the audit claim on that pair
    is "not checkable" with that reason, and is not audited again in the report's process
    (where a crash that killed a worker would kill the report)."""
    from verify.auditing.batch import LOST, Lost
    from verify.claims import audits as audit_claims
    from verify.claims.assemble import _by_key
    from verify.claims.check import check_claim
    from verify.claims.loader import load_claims

    def must_not_run(*a, **kw):
        raise AssertionError("audited again")

    monkeypatch.setattr(audit_claims, "audit", must_not_run)
    path = tmp_path / "c.toml"
    path.write_text('document = "d"\n[[claim]]\nid = "x"\nsection = "s"\nquote = "q"\n'
                    'kind = "audit"\nimpl = "mlx-default"\noptimizer = "adam"\n'
                    'expect = "adam"\n', encoding="utf-8")
    claim = load_claims(path).claims[0]
    result = check_claim(claim, {}, _by_key([], [("mlx-default", "adam", Lost(LOST))]))
    assert result.verdict == "not checkable" and LOST in result.note
