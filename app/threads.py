"""Native thread pools capped like torch's (TORCH_THREADS): the BLAS libraries' (BLAS_THREADS).

numpy's OpenBLAS starts one thread per core, and so does the one scipy brings with the
sentence model. The app's BLAS work is small matrix-vector products (a query against up to
VECTOR_EXACT_MAX product vectors) run while torch embeds on another thread and the event loop
serves on a third, on 2 cores: a second BLAS thread only contends with them. Measured
(bench/blas_threads.py): in one process, a query embedding then the 5,000-product vector
step took 0.8 ms with 1 BLAS thread and 15 ms with the default 2.

`cap_blas` limits the libraries already loaded (threadpoolctl) and sets
OPENBLAS_NUM_THREADS, which the libraries loaded later (scipy's, when the model loads) read
when they start. It runs when the app is built: `uvicorn --factory` has imported numpy by
then, `python -m app serve` has not.
"""

from __future__ import annotations

import os

from threadpoolctl import threadpool_info, threadpool_limits


def cap_blas(threads: int) -> None:
    """At most `threads` threads in every BLAS library of this process; 0 leaves them alone."""
    if threads <= 0:
        return
    os.environ["OPENBLAS_NUM_THREADS"] = str(threads)
    threadpool_limits(limits=threads, user_api="blas")


def blas_threads() -> dict[str, int]:
    """Threads of each BLAS library loaded in this process, by file name (for /healthz)."""
    return {os.path.basename(pool["filepath"]): pool["num_threads"]
            for pool in threadpool_info() if pool["user_api"] == "blas"}
