"""Subprocess used by tests/test_io.py to be killed with SIGKILL in the middle of cr.save.

    python _io_writer.py pause PATH   # save once, stop half-way through writing, print PAUSED
    python _io_writer.py loop PATH    # save generation 1, 2, 3, ... forever, print each number
"""

import sys
import time

import numpy as np

import chainrule.io as crio

N = 1 << 20  # float32 elements per array: 4 MiB, so a write takes a noticeable time


def content(generation):
    """What generation ``generation`` of the file holds (the test rebuilds it to compare)."""
    return {"generation": generation, "w": np.full(N, generation, dtype=np.float32),
            "state": {0: {"step": generation}}}


def pause_mid_write(file, data):
    """Write the first half, make it visible on disk, then wait to be killed."""
    view = memoryview(data)
    file.write(view[: len(view) // 2])
    file.flush()
    print("PAUSED", flush=True)
    time.sleep(60)


def main():
    mode, path = sys.argv[1], sys.argv[2]
    if mode == "pause":
        crio._write_all = pause_mid_write
        crio.save(content(2), path)
    elif mode == "loop":
        generation = 1
        while True:
            crio.save(content(generation), path)
            print(generation, flush=True)
            generation += 1
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main()
