"""Housekeeping of dbt's target folder: old dbt invocation folders are removed.

dagster-dbt gives every dbt invocation a folder of its own under the project's target folder
(``dbt_project/target/<op>-<run>-<id>``: a copy of the manifest and of the partial-parse state, the
compiled SQL, the run results and dbt's debug log; about 10 MB each on the generated lists) and never
removes one. A ``mailsift run`` makes three and a refresh two, so the folder grew without end: 3.8 GB
in 327 folders on the development machine after a day and a half. After each dbt step, the invocation
folders beyond the newest ``KEEP`` are removed, except any written to in the last ``MIN_AGE_S`` seconds
(another run, or a test beside this one, may still be using it). dbt's own files in the target folder (``manifest.json``,
``partial_parse.msgpack``, ``compiled/``, ...) are never touched.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

#: invocation folders kept, the most recently written: the latest runs' dbt logs stay for reading
KEEP = 20
#: a folder written to more recently than this is never removed (an invocation may still be running)
MIN_AGE_S = 3600.0

# dagster-dbt's folder names: "<7 hex>" without a Dagster context, "<op name>-<run id[:7]>-<7 hex>" with one
_INVOCATION = re.compile(r"^(?:[A-Za-z0-9_]+-[0-9a-f]{7}-)?[0-9a-f]{7}$")


def _last_write(folder: Path) -> float:
    """Latest modification time of the folder and of its direct entries (dbt appends to its log all along)."""
    times = [folder.stat().st_mtime]
    for entry in folder.iterdir():
        try:
            times.append(entry.stat().st_mtime)
        except FileNotFoundError:  # removed meanwhile
            pass
    return max(times)


def _size(folder: Path) -> int:
    total = 0
    for path in folder.rglob("*"):
        try:
            if path.is_file():
                total += path.stat().st_size
        except FileNotFoundError:
            pass
    return total


def prune_invocations(target_dir: Path, keep: int = KEEP, min_age_s: float = MIN_AGE_S,
                      now: float | None = None) -> tuple[int, int]:
    """Remove the dbt invocation folders in ``target_dir`` beyond the ``keep`` most recently written,
    except those written to within ``min_age_s`` seconds of ``now``. Returns (folders removed, bytes freed).
    A folder another process removes meanwhile is skipped."""
    target_dir = Path(target_dir)
    if not target_dir.is_dir():
        return 0, 0
    now = time.time() if now is None else now
    folders = []
    for entry in target_dir.iterdir():
        if entry.is_dir() and not entry.is_symlink() and _INVOCATION.match(entry.name):
            try:
                folders.append((_last_write(entry), entry))
            except FileNotFoundError:
                pass
    folders.sort(key=lambda item: item[0], reverse=True)
    removed, freed = 0, 0
    for written, folder in folders[max(int(keep), 0):]:
        if now - written < min_age_s:
            continue
        size = _size(folder)
        try:
            shutil.rmtree(folder)
        except FileNotFoundError:
            continue
        removed += 1
        freed += size
    return removed, freed


def tidy_after(invocation, log) -> None:
    """Prune the target folder of a finished dagster-dbt ``invocation``; report to ``log`` (a Dagster
    context's log). Never fails the step: housekeeping that cannot finish says so and stops."""
    target_dir = Path(invocation.target_path).parent
    try:
        removed, freed = prune_invocations(target_dir, keep=KEEP)
    except OSError as exc:
        log.warning(f"Could not remove old dbt invocation folders in {target_dir}: {exc}")
        return
    if removed:
        log.info(f"Removed {removed} old dbt invocation folder{'s' if removed != 1 else ''} from {target_dir} "
                 f"({freed / 1e6:,.1f} MB); the {KEEP} most recent are kept")
