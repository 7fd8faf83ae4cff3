"""Distributed hyper-parameter search: GridSearchCV over chainrule's MLPClassifier through
joblib on a Dask cluster (2 worker processes on loopback) and on plain joblib processes; and
the README's ecosystem snippets, run against the same cluster.

Every step runs under a wall-clock limit (SIGALRM), so a stuck cluster fails the test instead
of hanging CI.
"""

import contextlib
import pathlib
import re
import signal

import numpy as np
import pytest

import chainrule as cr

distributed = pytest.importorskip("dask.distributed")
joblib = pytest.importorskip("joblib")
from sklearn.model_selection import GridSearchCV, cross_validate  # noqa: E402

from chainrule.sklearn import MLPClassifier  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

DOCS = pathlib.Path(__file__).resolve().parents[1] / "README.md"
SECTION = "## Use with scikit-learn, ONNX, PyTorch and Dask"
GRID = {"hidden_layer_sizes": [(4,), (16,)], "learning_rate": [1e-3, 3e-2]}


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """Tiny matrices: BLAS threads only fight over the cores (10x slower on a busy box)."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(1):
        yield


@contextlib.contextmanager
def time_limit(seconds, what):
    """Raise TimeoutError in the main thread if the block runs longer than ``seconds``."""

    def on_alarm(signum, frame):
        raise TimeoutError(f"{what} took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="module")
def cluster():
    with time_limit(120, "starting a 2-worker LocalCluster"):
        local = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                         host="127.0.0.1", dashboard_address=None)
    try:
        yield local
    finally:
        with time_limit(60, "closing the LocalCluster"):
            local.close()


@pytest.fixture(scope="module")
def iris():
    X, y = cr.datasets.iris()
    return (X - X.mean(0)) / X.std(0), y


def _search(**kw):
    return GridSearchCV(MLPClassifier(max_iter=30, random_state=0), GRID, cv=3, **kw)


def test_grid_search_on_dask_matches_one_process_and_loky(cluster, iris):
    X, y = iris
    with time_limit(120, "the single-process search"):
        single = _search().fit(X, y)
    scores = single.cv_results_["mean_test_score"]
    assert len(set(scores)) == len(scores)  # no ties: "the best" is well defined
    with time_limit(180, "the search on loky processes"):
        loky = _search(n_jobs=2).fit(X, y)
    with time_limit(180, "the search on the Dask cluster"):
        with distributed.Client(cluster.scheduler_address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
            with distributed.get_task_stream(client) as tasks, joblib.parallel_backend("dask"):
                on_dask = _search().fit(X, y)
    workers = {task["worker"] for task in tasks.data}
    assert len(tasks.data) >= 12 and len(workers) == 2  # 4 settings x 3 folds on both workers
    for search in (loky, on_dask):
        assert search.best_params_ == single.best_params_
        np.testing.assert_array_equal(search.cv_results_["mean_test_score"], scores)
        np.testing.assert_array_equal(search.best_estimator_.predict_proba(X),
                                      single.best_estimator_.predict_proba(X))


def test_fitted_models_come_back_intact_from_workers(cluster, iris):
    X, y = iris
    model = MLPClassifier((8,), learning_rate=0.03, max_iter=20, random_state=0)
    with time_limit(120, "cross-validation in one process"):
        here = cross_validate(model, X, y, cv=3, return_estimator=True)
    with time_limit(180, "cross-validation on the Dask cluster"):
        with distributed.Client(cluster.scheduler_address, timeout="30s") as client:
            with joblib.parallel_backend("dask"):
                there = cross_validate(model, X, y, cv=3, return_estimator=True)
            # an estimator fitted by a worker and shipped back by Dask itself
            remote = client.submit(model.fit, X, y, pure=False).result(timeout=60)
    np.testing.assert_array_equal(there["test_score"], here["test_score"])
    for a, b in zip(there["estimator"], here["estimator"]):
        for (name, w), (_, w_here) in zip(a.model_.named_parameters(),
                                          b.model_.named_parameters()):
            np.testing.assert_array_equal(w.data, w_here.data, err_msg=name)
        assert a.loss_curve_ == b.loss_curve_ and a.n_iter_ == b.n_iter_
    local = MLPClassifier(**model.get_params()).fit(X, y)
    np.testing.assert_array_equal(remote.predict_proba(X), local.predict_proba(X))
    # the unpickled optimiser still drives the unpickled parameters (identity survived)
    assert remote.optimizer_.param_groups[0]["params"][0] is remote.model_[0].weight
    remote.partial_fit(X, y)
    local.partial_fit(X, y)
    np.testing.assert_array_equal(remote.predict_proba(X), local.predict_proba(X))


def _snippets():
    """The python blocks of the README's ecosystem section (up to the next ``## `` heading)."""
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index(SECTION):]
    end = section.find("\n## ", len(SECTION))
    section = section if end < 0 else section[:end]
    return re.findall(r"```python\n(.*?)```", section, re.DOTALL)


def test_ecosystem_doc_snippets_run(cluster, tmp_path, monkeypatch):
    """The README's ecosystem section runs as written, against the test cluster."""
    snippets = _snippets()
    assert len(snippets) == 4
    monkeypatch.chdir(tmp_path)  # the ONNX snippet writes digits.onnx here
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", cluster.scheduler_address)
    namespace = {"__name__": "ecosystem_docs"}
    with time_limit(240, "the README ecosystem snippets"):
        for i, code in enumerate(snippets):
            exec(compile(code, f"{DOCS.name}[snippet {i}]", "exec"), namespace)
    assert namespace["accuracy"] >= 0.97
    assert namespace["agreement"] == 1.0
    assert (tmp_path / "digits.onnx").exists()
    assert namespace["cluster"] is None  # it used the scheduler address, not a new cluster
    assert namespace["local"].best_params_ == namespace["search"].best_params_
    assert set(namespace["torch_state"]) == set(namespace["network"].state_dict())
