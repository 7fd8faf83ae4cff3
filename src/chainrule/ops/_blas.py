"""Running a recurrent layer's matrix products on one BLAS thread when the machine is busy.

A recurrent layer's time loop makes one small product per step (e.g. ``(32, 128) @ (128, 512)``,
2 MFLOP). With two OpenBLAS threads each such call hands half the work to a second thread and
waits for it: on an idle machine that is ~1.7× faster than one thread, but when other processes
keep the cores busy the second thread is often not running and the hand-off stalls (measured
on the shared 2-core development machine under a load of 7–8: W6 steps 3–30× slower with 2
threads than with 1, and the whole-sequence products of the same layer 3–5× slower). So
inside :func:`small_products`, which wraps a recurrent layer's forward and backward, with
``STEP_THREADS = "auto"`` (the default) NumPy's BLAS uses one thread when the 1-minute load
average exceeds the number of cores (other work is waiting for them) and is left alone
otherwise; ``STEP_THREADS = 1`` always limits it, ``None`` never does.

The limit is process-wide while the block runs (threadpoolctl's), so it is taken only around
the recurrent layers, and only when ``threadpoolctl`` is installed (``pip install
'chainrule[bench]'``; scikit-learn installs it too); otherwise the block runs unchanged.

>>> with small_products():
...     pass
"""

import contextlib
import os

STEP_THREADS = "auto"  # BLAS threads inside recurrent layers: "auto", an int, or None

_controller = []  # [ThreadpoolController or None], made on first use (it costs ~15 ms)


def _get_controller():
    if not _controller:
        try:
            from threadpoolctl import ThreadpoolController

            controller = ThreadpoolController().select(user_api="blas")
            _controller.append(controller if controller.lib_controllers else None)
        except Exception:  # not installed, or an unusual BLAS it cannot drive
            _controller.append(None)
    return _controller[0]


def _busy():
    """True when more work is waiting for the cores than there are cores."""
    try:
        return os.getloadavg()[0] > (os.cpu_count() or 1) + 0.5
    except OSError:  # no load average on this platform
        return False


def step_threads():
    """The BLAS thread limit :func:`small_products` applies now (None: no limit).

    >>> step_threads() in (None, 1)
    True
    """
    if STEP_THREADS == "auto":
        return 1 if _busy() else None
    return STEP_THREADS


@contextlib.contextmanager
def small_products():
    """Limit NumPy's BLAS threads inside the block per ``STEP_THREADS`` (see module docs)."""
    threads = step_threads()
    controller = _get_controller() if threads else None
    if controller is None:
        yield
        return
    with controller.limit(limits=threads):
        yield
