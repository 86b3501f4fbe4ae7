"""Long calls release the GIL: another Python thread keeps running while they compute."""
import threading
import time

import numpy as np

import lutc


def longest_stall(call) -> tuple:
    """Runs call() on a thread while this thread ticks every millisecond; returns the longest
    gap between ticks and the call's duration. Were the GIL held through the call, this thread
    could not tick until it returned: one gap would be the whole call."""
    done = threading.Event()

    def work():
        try:
            call()
        finally:
            done.set()

    ticks = [time.perf_counter()]
    t = threading.Thread(target=work)
    t.start()
    while not done.is_set():
        time.sleep(0.001)
        ticks.append(time.perf_counter())
    t.join()
    return max(np.diff(ticks)), ticks[-1] - ticks[0]


def test_quantize_and_gemv_release_the_gil(rng):
    w = rng.standard_normal((2048, 2048)).astype(np.float32)
    gap, total = longest_stall(lambda: lutc.quantize(w, "xfp.v2", bits=4, threads=1))
    assert total > 0.05 and gap < 0.5 * total, (gap, total)
    q = lutc.quantize(w, "int4.g128")
    x = rng.standard_normal((64, 2048)).astype(np.float32)
    gap, total = longest_stall(lambda: [lutc.gemv(q, x) for _ in range(10)])
    assert total > 0.05 and gap < 0.5 * total, (gap, total)
