"""Streaming writers: Arrow tables in, landing files out, a bounded number of rows in memory.

:class:`EntityWriter` buffers incoming tables to about a row group, writes them, and rolls over to a
new numbered file (``<stem>-0001.parquet``, ``-0002`` ...) once a file holds ``max_rows`` rows.
Parquet keeps timestamps as ``timestamp[us, tz=UTC]``. CSV gets a header row, booleans as
``true``/``false``, empty fields for NULL and ISO 8601 timestamps: mostly UTC with ``Z``, a small
share written with an explicit offset (e.g. ``+02:00``) that denotes the same instant.

Encoding and writing happen on one background thread per writer (Arrow releases the GIL), so the
simulation goes on meanwhile; at most one batch per writer is in flight, and batches are written in
the order they came, so the files are the same bytes as with synchronous writing.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

_OFFSETS = (7200, 3600, -18000, 32400, 19800, -25200)
_OFFSET_TEXT = pa.array(["+02:00", "+01:00", "-05:00", "+09:00", "+05:30", "-07:00"])
CSV_OFFSET_SHARE = 0.05


def csv_ready(table: pa.Table, rng: np.random.Generator) -> pa.Table:
    """Timestamps to ISO 8601 text; a share of them with an explicit non-UTC offset."""
    for i, f in enumerate(table.schema):
        if not pa.types.is_timestamp(f.type):
            continue
        col = table.column(i).combine_chunks().cast(pa.timestamp("s", tz="UTC"))
        utc = pc.strftime(col, format="%Y-%m-%dT%H:%M:%SZ")
        n = len(col)
        which = rng.integers(0, len(_OFFSETS), n)
        use = rng.random(n) < CSV_OFFSET_SHARE
        secs = col.cast(pa.int64()).fill_null(0).to_numpy()
        shifted = pa.array(secs + np.asarray(_OFFSETS)[which], type=pa.timestamp("s", tz="UTC"))
        local = pc.binary_join_element_wise(pc.strftime(shifted, format="%Y-%m-%dT%H:%M:%S"),
                                            _OFFSET_TEXT.take(pa.array(which)), "")
        text = pc.if_else(pa.array(use), local, utc)
        text = pc.if_else(pc.is_null(col), pa.scalar(None, pa.string()), text)
        table = table.set_column(i, pa.field(f.name, pa.string()), text)
    return table


class EntityWriter:
    """Write one entity's rows into ``directory`` as numbered Parquet/CSV files (or one fixed file)."""

    def __init__(self, directory: Path, stem: str, schema: pa.Schema, fmt: str = "parquet",
                 max_rows: int | None = 5_000_000, rng: np.random.Generator | None = None,
                 file_name: str | None = None, row_group: int = 1_000_000) -> None:
        if fmt not in ("parquet", "csv"):
            raise ValueError(f"fmt must be 'parquet' or 'csv', not {fmt!r}")
        self.directory = Path(directory)
        self.stem, self.schema, self.fmt = stem, schema, fmt
        self.max_rows = max_rows or 1 << 62
        self.rng = rng or np.random.default_rng(0)
        self.file_name = file_name
        self.row_group = row_group
        self.rows = 0
        self.files: list[Path] = []
        self._buffer: list[pa.Table] = []
        self._buffered = 0
        self._writer = None
        self._in_file = 0
        self._physical: pa.Schema | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"write-{stem or file_name}")
        self._pending: Future | None = None

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        self._buffer.append(self._conform(table))
        self._buffered += table.num_rows
        if self._buffered >= self.row_group:
            self._flush()

    def _conform(self, table: pa.Table) -> pa.Table:
        """Contract column order and types; dictionary-encoded strings stay so for Parquet."""
        table = table.select(self.schema.names)
        if self._physical is None:
            fields = []
            for f in self.schema:
                t = table.schema.field(f.name).type
                keep = self.fmt == "parquet" and pa.types.is_dictionary(t) and pa.types.is_string(f.type)
                fields.append(pa.field(f.name, pa.dictionary(pa.int32(), pa.string())) if keep else f)
            self._physical = pa.schema(fields)
        return table.cast(self._physical)

    def _open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        ext = "parquet" if self.fmt == "parquet" else "csv"
        name = self.file_name or f"{self.stem}-{len(self.files) + 1:04d}.{ext}"
        path = self.directory / name
        if self.fmt == "parquet":
            # without the Arrow schema, readers see dictionary columns as plain strings
            self._writer = pq.ParquetWriter(path, self._physical or self.schema, compression="zstd",
                                            store_schema=False)
        else:
            self._writer = pcsv.CSVWriter(path, csv_ready(self.schema.empty_table(), self.rng).schema,
                                          write_options=pcsv.WriteOptions(quoting_style="needed"))
        self.files.append(path)
        self._in_file = 0

    def _close_file(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _flush(self) -> None:
        if not self._buffer:
            return
        table = pa.concat_tables(self._buffer)
        self._buffer, self._buffered = [], 0
        self._wait()
        self._pending = self._pool.submit(self._write, table)

    def _wait(self) -> None:
        if self._pending is not None:
            self._pending.result()
            self._pending = None

    def _write(self, table: pa.Table) -> None:
        pos = 0
        while pos < table.num_rows:
            if self._writer is None:
                self._open()
            room = self.max_rows - self._in_file
            part = table.slice(pos, room)
            if self.fmt == "csv":
                part = csv_ready(part, self.rng)
            if self.fmt == "csv":
                self._writer.write_table(part)
            else:
                self._writer.write_table(part, row_group_size=self.row_group)
            self._in_file += part.num_rows
            self.rows += part.num_rows
            pos += part.num_rows
            if self._in_file >= self.max_rows:
                self._close_file()

    def close(self) -> int:
        self._flush()
        self._wait()
        self._pool.shutdown()
        if not self.files:
            self._open()
        self._close_file()
        return self.rows


def write_table(directory: Path, file_name: str, table: pa.Table, schema: pa.Schema, fmt: str = "parquet",
                rng: np.random.Generator | None = None) -> int:
    """One table into one file."""
    w = EntityWriter(directory, "", schema, fmt, None, rng, file_name, row_group=max(table.num_rows, 1))
    w.write(table)
    return w.close()
