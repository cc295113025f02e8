"""Load a user's dataset from a CSV file, refusing anything malformed with a message that names
the file and the line.

The expected layout is a header row naming the columns, then one row of numbers per sample; the
last column is the target y and every other column a feature::

    x1,x2,y
    0.5,1.25,3.0
    ...

The file is streamed line by line (never read whole into memory), only if it is a regular
file (``core.file_read``: a FIFO or ``/dev/zero`` is refused at once) and never past
``max_bytes``, checked before and while reading. Names and cells quoted in messages are
escaped and cut short (``core.text.shown``).
"""

from __future__ import annotations

import array
import csv
import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from gdviz.core.errors import ConfigError
from gdviz.core.file_read import open_regular
from gdviz.core.problems.base import read_only
from gdviz.core.text import shown

DEFAULT_MAX_BYTES = 100 * 2**20
DEFAULT_MAX_CELLS = 10_000_000
_OTHER_DELIMITERS = (";", "\t", "|")


@dataclass(frozen=True)
class CsvData:
    """A dataset read from a CSV file (arrays are read-only float64).

    Attributes:
        columns: the header's column names, features first, the target last (length d + 1)
        x:       (n, d) features, one row per data line
        y:       (n,) targets (the last column)
        lines:   (n,) the 1-based line number in the file of each row, for messages
        path:    the file the data came from
    """

    columns: tuple[str, ...]
    x: np.ndarray
    y: np.ndarray
    lines: np.ndarray = field(default_factory=lambda: read_only(np.zeros(0, dtype=np.int64),
                                                                 dtype=np.int64))
    path: str = ""

    @property
    def n_rows(self) -> int:
        return int(self.x.shape[0])

    @property
    def feature_names(self) -> tuple[str, ...]:
        return self.columns[:-1]

    @property
    def target_name(self) -> str:
        return self.columns[-1]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _decoded_lines(raw_lines, path: str) -> Iterator[str]:
    """Yield the file's lines as text, refusing bytes that are not UTF-8 with their line."""
    for number, raw in enumerate(raw_lines, start=1):
        if number == 1:
            if raw.startswith(b"PK\x03\x04"):
                raise ConfigError(f"{path}: line 1: this looks like an Excel workbook or another "
                                  "zip file, not CSV text; save it as 'CSV (comma delimited)'")
            if raw.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte-order mark (Excel writes one)
                raw = raw[3:]
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as err:
            bad = raw[err.start:err.start + 1].hex()
            raise ConfigError(f"{path}: line {number} is not UTF-8 text (byte 0x{bad} at "
                              f"character {err.start + 1}); save the file as UTF-8 CSV") from None


def _delimiter_hint(line: str) -> str:
    """`` did you use ';'?`` when another common separator appears in ``line``."""
    for delim in _OTHER_DELIMITERS:
        if delim in line:
            shown = "a tab" if delim == "\t" else f"{delim!r}"
            return f", did you use {shown}?"
    if len(line.split()) > 1:
        return ", did you separate the values with spaces?"
    return ""


def load_csv(path: str, max_bytes: int = DEFAULT_MAX_BYTES,
             max_cells: int = DEFAULT_MAX_CELLS) -> CsvData:
    """Read ``path``: a header row, then rows of numbers; the last column is the target.

    Args:
        path: the CSV file (UTF-8, comma-separated, a header row first).
        max_bytes: files larger than this many bytes are refused (before and while reading).
        max_cells: refuse the file once it holds more than this many numbers.

    Returns:
        CsvData with x of shape (n, d) and y of shape (n,), d >= 1, n >= 1.

    Raises:
        ConfigError naming the file and, where one is to blame, the line: a missing or
        unreadable file, a file over ``max_bytes``, bytes that are not UTF-8, an empty file, a
        missing header, fewer than 2 columns (a wrong delimiter), ragged rows, cells that are not
        finite numbers, no data rows, more than ``max_cells`` numbers.
    """
    with open_regular(path, "data file", max_bytes) as reader:
        try:
            return _parse(reader.lines(), reader.name, max_cells)
        except OSError as err:
            raise ConfigError(f"cannot read data file {reader.name}: "
                              f"{err.strerror or err}") from None


def _parse(raw_lines, path: str, max_cells: int) -> CsvData:
    """``path`` is the file's name as shown in messages (``core.text.shown``)."""
    lines = _decoded_lines(raw_lines, path)
    reader = csv.reader(lines, delimiter=",", quotechar='"', strict=True)
    header: list[str] | None = None
    header_line = 0
    values = array.array("d")
    row_lines = array.array("q")
    width = 0
    try:
        for row in reader:
            number = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue  # blank lines are allowed anywhere
            if header is None:
                header, header_line = [cell.strip() for cell in row], number
                width = _check_header(header, number, path)
                continue
            if len(row) != width:
                raise ConfigError(
                    f"{path}: line {number} has {_plural(len(row), 'column')} but the header "
                    f"(line {header_line}) has {width}{_delimiter_hint(','.join(row))}")
            if (len(row_lines) + 1) * width > max_cells:
                raise ConfigError(f"{path}: line {number}: the file holds more than "
                                  f"{max_cells:,} numbers, too many to load")
            for cell, name in zip(row, header):
                values.append(_parse_cell(cell, name, number, path))
            row_lines.append(number)
    except csv.Error as err:
        raise ConfigError(f"{path}: line {reader.line_num}: not valid CSV ({err})") from None
    if header is None:
        raise ConfigError(f"{path}: the file is empty; it needs a header row (e.g. x,y) and "
                          "rows of numbers")
    if not row_lines:
        raise ConfigError(f"{path}: the file has a header (line {header_line}) but no data rows")
    table = np.frombuffer(values, dtype=np.float64).reshape(len(row_lines), width)
    return CsvData(
        columns=tuple(header),
        x=read_only(table[:, :-1]),
        y=read_only(table[:, -1]),
        lines=read_only(np.frombuffer(row_lines, dtype=np.int64), dtype=np.int64),
        path=path,
    )


def _check_header(header: list[str], number: int, path: str) -> int:
    """Check the header row and return its number of columns."""
    if all(_is_number(name) for name in header):
        raise ConfigError(
            f"{path}: line {number} is all numbers, but the first line must be a header naming "
            f"the columns (e.g. x1,x2,y; the last column is the target)")
    if len(header) < 2:
        raise ConfigError(
            f"{path}: expected comma-separated values; line {number} has "
            f"{_plural(len(header), 'column')}{_delimiter_hint(header[0])} "
            "(gdviz needs at least 2: one or more features, then the target)")
    for position, name in enumerate(header, start=1):
        if not name:
            raise ConfigError(
                f"{path}: line {number}: column {position} of the header has no name (a "
                "pandas index column? remove it or give it a name)")
    return len(header)


def _parse_cell(cell: str, name: str, number: int, path: str) -> float:
    text = cell.strip()
    column = f"column '{shown(name, 40)}'"
    if not text:
        raise ConfigError(f"{path}: line {number}, {column} is empty; every cell must hold "
                          "a number")
    try:
        # numbers are ASCII without "_" (as on the command line: core.settings_parse);
        # float() alone would take "1_0" and other scripts' digits
        if not text.isascii() or "_" in text:
            raise ValueError(text)
        value = float(text)
    except ValueError:
        raise ConfigError(f"{path}: line {number}, {column}: '{shown(text, 40)}' is not a "
                          "number") from None
    if not math.isfinite(value):
        raise ConfigError(f"{path}: line {number}, {column}: '{shown(text, 40)}' is not a "
                          "finite number")
    return value
