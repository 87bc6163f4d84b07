"""Execute the book's notebooks two at a time into the jupyter-cache the book build reads.

`make book` runs this before `jupyter-book build`: Jupyter Book 1 executes notebooks one after
another, and kernel start-up dominates on a 2-core machine. Notebooks already cached with the
same code are skipped. A notebook that fails here is simply not cached; the book build then
executes it itself and fails with its traceback (nb_execution_raise_on_error).
"""

from __future__ import annotations

import sys
from pathlib import Path

from jupyter_cache import get_cache
from jupyter_cache.executors import load_executor

CACHE = Path("_build/.jupyter_cache")
CELL_TIMEOUT_SECONDS = 120


def main(notebooks: list[str]) -> int:
    cache = get_cache(CACHE)
    for notebook in notebooks:
        cache.add_nb_to_project(str(Path(notebook).resolve()))
    executor = load_executor("local-parallel", cache=cache)
    result = executor.run_and_cache(timeout=CELL_TIMEOUT_SECONDS)
    failed = result.excepted + result.errored
    print(
        f"executed in parallel: {len(result.succeeded)} notebooks"
        + (f"; failed (the build will show why): {', '.join(failed)}" if failed else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
