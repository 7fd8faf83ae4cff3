"""Subprocess used by tests/test_faults.py: `chainrule train` that stops at a chosen point,
prints PAUSED and waits there to be signalled or killed.

    python _fault_driver.py epoch K    -- TRAIN ARGS  # pause after epoch K's checkpoint
    python _fault_driver.py save K     -- TRAIN ARGS  # pause half-way through writing it
    python _fault_driver.py none 0     -- TRAIN ARGS  # just run

While paused it polls for the file ``<out>/GO`` (the test creates it after sending its
signal), so a SIGINT or SIGTERM, which the training job only records, is acted on at the next
batch boundary, as it would be in a real run. Exits with main()'s exit code.
"""

import os
import sys
import time


def _wait(out):
    print("PAUSED", flush=True)
    go = os.path.join(out, "GO")
    for _ in range(600):  # 60 s at most; the test kills or releases us long before
        if os.path.exists(go):
            return
        time.sleep(0.1)


def main():
    mode, k = sys.argv[1], int(sys.argv[2])
    args = sys.argv[sys.argv.index("--") + 1:]
    out = args[args.index("--out") + 1] if "--out" in args else args[args.index("--resume") + 1]

    import chainrule.io as crio
    import chainrule.train.loop as loop
    from chainrule.cli import main as cli_main

    real_save, real_write = loop._save_checkpoint, crio._write_all

    def save_checkpoint(path, run, callbacks):
        if mode == "save" and run.epoch == k:
            def half_then_wait(file, data):
                view = memoryview(data)
                file.write(view[: len(view) // 2])
                file.flush()
                _wait(out)
                file.write(view[len(view) // 2:])

            crio._write_all = half_then_wait
            try:
                real_save(path, run, callbacks)
            finally:
                crio._write_all = real_write
            return
        real_save(path, run, callbacks)
        if mode == "epoch" and run.epoch == k:
            _wait(out)

    loop._save_checkpoint = save_checkpoint
    sys.exit(cli_main(args))


if __name__ == "__main__":
    main()
