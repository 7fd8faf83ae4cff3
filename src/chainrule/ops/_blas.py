"""Running a stretch of small matrix products on one BLAS thread.

A recurrent layer's time loop makes one small product per step (e.g. ``(32, 128) @ (128, 512)``,
2 MFLOP). With two or more OpenBLAS threads each such call hands work to a second thread and
waits for it; on a machine whose cores are busy with other processes that hand-off stalls
(measured on the shared 2-core development machine: W6 steps 3–30× slower with 2 threads than
with 1 while other jobs ran). Inside :func:`small_products` NumPy's BLAS uses one thread; the
large whole-sequence products outside it keep every thread.

The limit is process-wide while the block runs (threadpoolctl's), so it is taken only around
the loops, and only when ``threadpoolctl`` is installed (``pip install 'chainrule[bench]'``;
scikit-learn installs it too); otherwise the block runs unchanged. ``STEP_THREADS = None``
turns it off.

>>> with small_products():
...     pass
"""

import contextlib

STEP_THREADS = 1  # BLAS threads inside per-time-step loops; None: leave BLAS alone

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


@contextlib.contextmanager
def small_products():
    """Limit NumPy's BLAS to ``STEP_THREADS`` threads inside the block (see module docs)."""
    threads = STEP_THREADS
    controller = _get_controller() if threads else None
    if controller is None:
        yield
        return
    with controller.limit(limits=threads):
        yield
