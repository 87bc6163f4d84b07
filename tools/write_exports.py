"""Write every export into book/appendix/protocol-files/, the files the book publishes for download.

Run by `make notebooks` (and by hand after an edit of study.yaml); a test fails while the
committed files differ from a fresh export, so the book never offers a stale file.
"""

from __future__ import annotations

import sys
from pathlib import Path

from exports.run import exports, write_exports

FOLDER = Path(__file__).resolve().parents[1] / "book" / "appendix" / "protocol-files"


def main() -> int:
    found = exports(["all"])
    invalid = [e for e in found if not e.valid]
    for export in invalid:
        for finding in export.findings:
            print(f"{export.format}: {finding}", file=sys.stderr)
    if invalid:
        return 1
    FOLDER.mkdir(parents=True, exist_ok=True)
    for path in write_exports(found, FOLDER, force=True):
        print(f"wrote {path.relative_to(FOLDER.parents[2])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
