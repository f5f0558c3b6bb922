"""Old dbt invocation folders are removed after each dbt step (orchestration/dbt_targets.py)."""

from __future__ import annotations

import os
from pathlib import Path

from orchestration.dbt_targets import prune_invocations, tidy_after

NOW = 2_000_000_000.0
HOUR = 3600.0


def _folder(target: Path, name: str, written: float, log_bytes: int, log_written: float | None = None) -> Path:
    """An invocation folder with a dbt.log of ``log_bytes`` bytes; the folder last changed at ``written``,
    the log at ``log_written`` (default: the same time)."""
    folder = target / name
    (folder / "compiled").mkdir(parents=True)
    (folder / "compiled" / "model.sql").write_text("select 1")  # 8 bytes
    log = folder / "dbt.log"
    log.write_bytes(b"x" * log_bytes)
    for path in (folder / "compiled" / "model.sql", folder / "compiled"):
        os.utime(path, (written, written))
    os.utime(log, (log_written or written,) * 2)
    os.utime(folder, (written, written))
    return folder


def test_keeps_the_newest_and_dbts_own_files(tmp_path):
    target = tmp_path / "target"
    names = ["00000a1", "00000b2", "00000c3", "mailsift_dbt_models-3f2a1bc-00000d4", "00000e5", "00000f6"]
    for hours_ago, (name, size) in zip((10, 9, 8, 7, 6, 5), zip(names, (100, 200, 300, 400, 500, 600))):
        _folder(target, name, NOW - hours_ago * HOUR, size)
    (target / "compiled").mkdir()  # dbt parse's own, older than everything: never touched
    (target / "manifest.json").write_text("{}")
    (target / "notes-abc").mkdir()  # not a dagster-dbt name
    for path in (target / "compiled", target / "manifest.json", target / "notes-abc"):
        os.utime(path, (NOW - 20 * HOUR,) * 2)

    removed, freed = prune_invocations(target, keep=3, min_age_s=HOUR, now=NOW)

    # the three oldest go: logs of 100 + 200 + 300 bytes and a compiled file of 8 bytes each
    assert (removed, freed) == (3, 624)
    assert sorted(p.name for p in target.iterdir()) == sorted(
        ["mailsift_dbt_models-3f2a1bc-00000d4", "00000e5", "00000f6", "compiled", "manifest.json", "notes-abc"])
    assert prune_invocations(target, keep=3, min_age_s=HOUR, now=NOW) == (0, 0)


def test_a_folder_written_to_within_the_hour_stays_even_beyond_the_newest(tmp_path):
    target = tmp_path / "target"
    # the folder itself changed five hours ago, but its dbt.log ten minutes ago: an invocation still running
    _folder(target, "scoring_training_data-0a1b2c3-1234567", NOW - 5 * HOUR, 50, log_written=NOW - 600)
    _folder(target, "89abcde", NOW - 5 * HOUR, 70)
    _folder(target, "fedcba9", NOW - 1800, 90)  # half an hour ago

    assert prune_invocations(target, keep=0, min_age_s=HOUR, now=NOW) == (1, 78)
    assert sorted(p.name for p in target.iterdir()) == ["fedcba9", "scoring_training_data-0a1b2c3-1234567"]
    assert prune_invocations(tmp_path / "missing", keep=0, now=NOW) == (0, 0)


def test_tidy_after_reports_what_it_removed_and_never_fails_the_step(tmp_path, monkeypatch):
    import orchestration.dbt_targets as dbt_targets

    class Log:
        def __init__(self):
            self.lines = []

        def info(self, text):
            self.lines.append(("info", text))

        def warning(self, text):
            self.lines.append(("warning", text))

    class Invocation:
        target_path = tmp_path / "target" / "mailsift_dbt_serving-0a1b2c3-7654321"

    _folder(tmp_path / "target", "1111111", 1_000_000.0, 10)  # long ago
    monkeypatch.setattr(dbt_targets, "KEEP", 0)
    log = Log()
    tidy_after(Invocation(), log)
    assert log.lines == [("info", f"Removed 1 old dbt invocation folder from {tmp_path / 'target'} (0.0 MB); "
                                  "the 0 most recent are kept")]
    assert list((tmp_path / "target").iterdir()) == []

    def broken(*args, **kwargs):
        raise PermissionError("read-only file system")

    monkeypatch.setattr(dbt_targets, "prune_invocations", broken)
    log = Log()
    tidy_after(Invocation(), log)
    assert log.lines == [("warning", f"Could not remove old dbt invocation folders in {tmp_path / 'target'}: "
                                     "read-only file system")]
