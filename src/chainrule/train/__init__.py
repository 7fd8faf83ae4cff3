"""Training: `fit`, `evaluate`, `predict`, metrics, callbacks and the `History` they log.

>>> import chainrule as cr
>>> X, y = cr.datasets.iris()
>>> cr.manual_seed(0)
>>> model = cr.nn.Sequential(cr.nn.Linear(4, 16), cr.nn.ReLU(), cr.nn.Linear(16, 3))
>>> hist = cr.train.fit(model, cr.nn.CrossEntropyLoss(), cr.optim.Adam(model.parameters(), 0.01),
...                     ((X - X.mean(0)) / X.std(0), y), epochs=20, progress=False, seed=0)
>>> hist.history["accuracy"][-1] > 0.9
True

- loop.py: `fit`, `evaluate`, `predict`, `TrainingDivergedError`, `TrainingInterrupted`
- job.py: `run`, `RunOptions`: the resumable training job of ``chainrule train``
- runfolder.py: the rules of run folders (unique names, no silent overwrite)
- metrics.py: `accuracy`, `top_k_accuracy`, `mse`, `mae`, `r2`, `get_metric`
- callbacks.py: `Callback`, `EarlyStopping`, `ModelCheckpoint`
- history.py: `History`
- progress.py: what fit prints (rich bar on a terminal, lines otherwise)
"""

from chainrule.train.callbacks import Callback, EarlyStopping, ModelCheckpoint
from chainrule.train.history import History
from chainrule.train.job import RunError, RunOptions, RunResult, run
from chainrule.train.loop import (
    Run,
    TrainingDivergedError,
    TrainingInterrupted,
    eval_mode,
    evaluate,
    fit,
    predict,
)
from chainrule.train.metrics import (
    accuracy,
    get_metric,
    mae,
    mse,
    predicted_labels,
    r2,
    top_k_accuracy,
)

__all__ = [
    "Callback",
    "EarlyStopping",
    "History",
    "ModelCheckpoint",
    "Run",
    "RunError",
    "RunOptions",
    "RunResult",
    "TrainingDivergedError",
    "TrainingInterrupted",
    "accuracy",
    "eval_mode",
    "evaluate",
    "fit",
    "get_metric",
    "mae",
    "mse",
    "predict",
    "predicted_labels",
    "r2",
    "run",
    "top_k_accuracy",
]
