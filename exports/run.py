"""Every export, and writing them: what `trialbook export` does."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable, Iterable
from pathlib import Path

from exports import fhir, odm, sdtm, usdm
from exports.common import Export, ExportError
from protocol.study import Study

#: The formats, in the order the book lists them.
FORMATS: dict[str, Callable[[Study | None], Export]] = {
    "usdm": usdm.export,
    "fhir": fhir.export,
    "odm": odm.export,
    "sdtm": sdtm.export,
}


def exports(names: list[str], study: Study | None = None) -> list[Export]:
    """The chosen formats (``all`` for every one), each built and validated."""
    chosen = list(FORMATS) if "all" in names else list(dict.fromkeys(names))
    unknown = [n for n in chosen if n not in FORMATS]
    if unknown:
        raise ValueError(f"unknown format(s) {unknown}; expected {sorted(FORMATS)} or all")
    return [_built(name, study) for name in chosen]


def _built(name: str, study: Study | None) -> Export:
    """One format; a fact its model refuses (an empty name, a negative count) is bad input."""
    from pydantic import ValidationError

    try:
        return FORMATS[name](study)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"]))
        raise ExportError(
            f"{name}: study.yaml gives {where} a value the format refuses: {first['msg']}"
        ) from None


def write_exports(
    found: list[Export],
    folder: Path | str,
    force: bool = False,
    inputs: Iterable[Path | str] = (),
) -> list[Path]:
    """Every file checked first (none replaced without ``force``; a sub-folder must be a folder
    or absent; an input of the run, the study, is never replaced, even with ``force``), then
    each written atomically, in its format's sub-folder. A sub-folder made for a write that
    then fails is taken away again, so a refused run leaves the folder as it was."""
    from dosing.calendar import (
        CalendarFileError,
        check_targets,
        refuse_links_in_folder,
        writable_folder,
        write_targets,
    )

    folder = Path(folder)
    files = {name: data for export in found for name, data in export.files.items()}
    subfolders = sorted({folder / Path(name).parent for name in files})
    problems = []
    for sub in subfolders:
        try:
            info = os.lstat(sub)
        except FileNotFoundError:
            continue
        if not stat.S_ISDIR(info.st_mode):
            what = "a symbolic link" if stat.S_ISLNK(info.st_mode) else "a file"
            problems.append(
                f"{str(sub)!r} in --out is {what}, where the export writes its "
                f"{sub.name} folder; expected a folder of its own (a link is never written "
                "through, even with --force)"
            )
    if problems:
        raise CalendarFileError(problems)
    unwritable = sorted(
        {
            str(sub.parent)
            for sub in subfolders
            if not sub.is_dir() and not writable_folder(sub.parent)
        }
    )
    if unwritable:  # a subfolder would be made in a read-only folder
        raise CalendarFileError(
            [
                f"--out {where!r}: the folder is not writable; expected a folder you may write in"
                for where in unwritable
            ]
        )
    present = [(name, folder / name) for name in files if (folder / name).parent.is_dir()]
    check_targets(present, force, inputs)  # refuses before anything is written
    refuse_links_in_folder(folder, [name for name, _ in present])
    made = []
    try:
        for sub in subfolders:
            try:
                sub.mkdir()
                made.append(sub)
            except FileExistsError:
                pass
            except OSError as exc:
                raise CalendarFileError(
                    [
                        f"--out {str(sub)!r}: the folder cannot be made ({exc.strerror}); "
                        "expected a folder that can be written"
                    ]
                ) from None
        targets = check_targets([(name, folder / name) for name in files], force, inputs)
        return write_targets([(target, files[target.option]) for target in targets])
    except BaseException:
        for sub in reversed(made):  # only what this run made, and only if still empty
            with contextlib.suppress(OSError):
                sub.rmdir()
        raise
