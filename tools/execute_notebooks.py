"""Re-execute notebooks in place so their stored outputs are current (`make notebooks`).

Each notebook runs in a fresh kernel from its own folder, as the book build runs it. Timing
metadata is not recorded, so a re-run that changes nothing leaves the file byte-identical and the
diff a maintainer reviews shows only what the protocol change did.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

CELL_TIMEOUT_SECONDS = 120


def execute(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_SECONDS,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(notebook, path)


def main(paths: list[str]) -> int:
    failed = []
    for name in paths:
        path = Path(name)
        print(f"executing {path}", flush=True)
        try:
            execute(path)
        except CellExecutionError as exc:
            failed.append(path)
            print(f"{path}: a cell failed; the file is left as it was\n{exc}", file=sys.stderr)
    if failed:
        print(f"{len(failed)} notebook(s) failed: {', '.join(map(str, failed))}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
