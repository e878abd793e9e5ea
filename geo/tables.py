"""Read one input file, whatever its format, into a DataFrame or GeoDataFrame.

Tables (CSV in UTF-8, UTF-8 with BOM or GBK/GB18030; XLSX) come back as a ``DataFrame`` of
text cells, so codes such as ``330203001001`` or ``007`` keep their digits. Spatial files
(GeoJSON, GeoPackage, Shapefile — also zipped — and GeoParquet) come back as a
``GeoDataFrame`` with the CRS the file declares. Nothing is converted or dropped here.

A source is read whole or refused: a workbook with several sheets holding data, a GeoPackage
with several layers or a zip with several Shapefiles needs ``sheet=`` / ``layer=`` to name the
one meant. Given the names a header holds, a title above the header (or a cover sheet) is
found and skipped with a warning; ``header_row=`` says where the header is. A Shapefile
without a ``.cpg`` is read as UTF-8, else as GB18030 with a warning.
"""

from __future__ import annotations

import codecs
import csv
import glob
import io
import re
import zipfile
from array import array
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio
import pyogrio.errors
from geopandas.io.arrow import _arrow_to_geopandas, _validate_and_decode_metadata

from geo.columns import normalise_name
from geo.errors import InputFormatError, Problem
from geo.records import GeoMessage

__all__ = [
    "SPATIAL_SUFFIXES",
    "TABLE_SUFFIXES",
    "FilePart",
    "TableSource",
    "decode_text",
    "header_index",
    "list_parts",
    "read_table",
]

TABLE_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm")
SPATIAL_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".zip", ".parquet", ".geoparquet")

#: Encodings tried in order. ``utf-8-sig`` also reads plain UTF-8; GB18030 is a superset of
#: GBK and GB2312, which is what Excel on a Chinese Windows writes.
CSV_ENCODINGS = ("utf-8-sig", "gb18030")

#: Rows of a CSV parsed at a time (a chunk's text cells are all a parse holds beyond the
#: table read so far).
CSV_CHUNK_ROWS = 200_000

#: Rows of a GeoParquet file converted at a time.
PARQUET_BATCH_ROWS = 200_000

#: Bytes of a CSV decoded at a time to tell its encoding.
DECODE_BLOCK_BYTES = 1 << 22

#: Characters from the top of a CSV searched for its header.
HEAD_CHARACTERS = 1_000_000

#: How many rows from the top are searched for the header row.
HEADER_SEARCH_ROWS = 30

#: How many of the expected column names a row must hold to be taken for the header.
HEADER_MIN_NAMES = 2


@dataclass(frozen=True)
class TableSource:
    """What was read and how, for messages: the file's name and how rows are numbered."""

    label: str
    kind: str  # "table" or "spatial"
    encoding: str | None = None
    #: Row number a person sees on each data row, when it is not simply consecutive (a CSV
    #: with blank lines: pandas skips them, Excel still counts them).
    shown_rows: tuple[int, ...] | None = field(default=None, repr=False, compare=False)
    #: Row number of the header in a table (1 unless a title stands above it).
    header_row: int = 1
    #: The sheet or layer read, when the file holds several.
    part: str | None = None
    #: What the reader noticed and the user should hear (a skipped title, a guessed encoding).
    warnings: tuple[Problem, ...] = field(default=(), repr=False, compare=False)

    @property
    def first_row_number(self) -> int:
        """Number a person sees on the first data row: the row under the header in a
        spreadsheet (2 when the header is row 1), 1 for the first feature of a spatial file."""
        return self.header_row + 1 if self.kind == "table" else 1

    def row_numbers(self, count: int) -> list[int]:
        """Row number a person sees on each of the ``count`` data rows read."""
        if self.shown_rows is not None and len(self.shown_rows) == count:
            return list(self.shown_rows)
        return list(range(self.first_row_number, self.first_row_number + count))


def decode_text(raw: bytes, *, label: str) -> tuple[str, str]:
    """Decode bytes as UTF-8 (with or without BOM), else GB18030; say where it fails."""
    for encoding in CSV_ENCODINGS:
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, byte = raw[: exc.start].count(b"\n") + 1, exc.start
    raise InputFormatError(
        GeoMessage.of("tables.errors.undecodable", file=label, line=line, byte=byte)
    )


def header_index(rows: list[list[object]], header_names: Collection[str]) -> int | None:
    """Index of the first of ``rows`` (within :data:`HEADER_SEARCH_ROWS`) whose cells hold
    :data:`HEADER_MIN_NAMES` of ``header_names`` (compared after
    :func:`geo.columns.normalise_name`); None when no row does."""
    wanted = {normalise_name(name) for name in header_names}
    need = min(HEADER_MIN_NAMES, len(wanted))
    if not need:
        return None
    for index, cells in enumerate(rows[:HEADER_SEARCH_ROWS]):
        names = {normalise_name(c) for c in cells if isinstance(c, str) and c.strip()}
        if len(names & wanted) >= need:
            return index
    return None


def _header_choice(
    rows: list[list[object]],
    *,
    header_row: int | None,
    header_names: Collection[str],
    label: str,
) -> tuple[int, list[Problem]]:
    """The 0-based index of the header row among ``rows``: ``header_row`` when given, else the
    first row holding the expected names (a warning when rows with cells stand above it),
    else 0."""
    if header_row is not None:
        if isinstance(header_row, bool) or not isinstance(header_row, int) or header_row < 1:
            raise InputFormatError(
                GeoMessage.of(
                    "tables.errors.header_row_not_number", file=label, value=repr(header_row)
                )
            )
        return header_row - 1, []
    found = header_index(rows, header_names)
    if not found:
        return 0, []
    if not any(isinstance(c, str) and c.strip() for row in rows[:found] for c in row):
        return found, []  # only blank rows above the header: nothing was skipped
    cells = [str(c).strip() for c in rows[found] if isinstance(c, str) and c.strip()]
    warning = Problem.of(
        "warning",
        label,
        GeoMessage.of(
            "tables.header_skipped", row=found + 1, skipped=found, cells=tuple(cells[:8])
        ),
    )
    return found, [warning]


def _refuse_header_below_the_end(header: int, top_rows: int, label: str) -> None:
    """Refuse a header row past the last row (``top_rows`` rows read from the top, at most
    :data:`HEADER_SEARCH_ROWS`: a longer file is left to the reader)."""
    if top_rows < HEADER_SEARCH_ROWS and header >= top_rows:
        raise InputFormatError(
            GeoMessage.of(
                "tables.errors.header_below_end", file=label, row=header + 1, rows=top_rows
            )
        )


def _csv_lines(text: str) -> list[list[object]]:
    """The cells of the first lines of a CSV, split on any separator (for finding the
    header)."""
    lines = text[:1_000_000].split("\n")[:HEADER_SEARCH_ROWS]
    return [
        [cell.strip().strip('"').strip() for cell in re.split(r"[,;\t|]", line)] for line in lines
    ]


def _read_csv(
    path: Path, label: str, *, header_row: int | None, header_names: Collection[str]
) -> tuple[pd.DataFrame, TableSource]:
    """The CSV as text cells, parsed :data:`CSV_CHUNK_ROWS` rows at a time from its bytes (a
    large file is never held as one decoded text), and how its rows are numbered."""
    raw = path.read_bytes()
    if not raw or raw.isspace():
        raise InputFormatError(GeoMessage.of("tables.errors.csv_empty", file=label))
    encoding = _encoding_of(raw, label)
    head = _decoded_head(raw, encoding, HEAD_CHARACTERS)
    header, warnings = _header_choice(
        _csv_lines(head), header_row=header_row, header_names=header_names, label=label
    )
    _refuse_header_below_the_end(header, len(_csv_lines(head.rstrip())), label)
    body = raw
    if header:
        body = _after_lines(raw, header)
    del raw
    frame, shown_rows = _parse_csv(body, encoding, label)
    if shown_rows is not None:
        shown_rows = tuple(number + header for number in shown_rows)
    source = TableSource(
        label, "table", encoding, shown_rows, header_row=header + 1, warnings=tuple(warnings)
    )
    return frame, source


def _encoding_of(raw: bytes, label: str) -> str:
    """The first of :data:`CSV_ENCODINGS` that decodes all of ``raw``, tried block by block
    (the decoded text is not kept); :func:`decode_text`'s error when none does."""
    for encoding in CSV_ENCODINGS:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            for start in range(0, len(raw), DECODE_BLOCK_BYTES):
                decoder.decode(raw[start : start + DECODE_BLOCK_BYTES])
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    return decode_text(raw, label=label)[1]


def _decoded_head(raw: bytes, encoding: str, characters: int) -> str:
    """The first ``characters`` characters of ``raw`` (at most four bytes each)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    return decoder.decode(raw[: 4 * characters], final=len(raw) <= 4 * characters)[:characters]


def _after_lines(raw: bytes, lines: int) -> bytes:
    """``raw`` after its first ``lines`` lines (empty when it has no more). A newline byte is
    a newline in UTF-8 and in GB18030 alike: neither uses it inside a character."""
    at = -1
    for _ in range(lines):
        at = raw.find(b"\n", at + 1)
        if at < 0:
            return b""
    return raw[at + 1 :]


def _parse_csv(
    body: bytes, encoding: str, label: str
) -> tuple[pd.DataFrame, tuple[int, ...] | None]:
    """The CSV (header first) as text cells, and the row number of each record (None when
    they are simply consecutive)."""
    sample = _decoded_head(body, encoding, 20_000)
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    try:
        chunks = pd.read_csv(
            io.BytesIO(body),
            encoding=encoding,
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            skipinitialspace=True,
            chunksize=CSV_CHUNK_ROWS,
        )
        with chunks:
            frame = pd.concat(list(chunks), ignore_index=True)
    except pd.errors.ParserError as exc:
        raise InputFormatError(
            GeoMessage.of("tables.errors.csv_unparsable", file=label, detail=str(exc))
        ) from exc
    except pd.errors.EmptyDataError as exc:
        raise InputFormatError(GeoMessage.of("tables.errors.no_columns", file=label)) from exc
    return frame, _record_numbers(body, encoding, delimiter)


def _record_numbers(body: bytes, encoding: str, delimiter: str) -> tuple[int, ...] | None:
    """Spreadsheet row number of each data record, counting the blank lines pandas skips (a
    quoted cell spanning lines is one record, as in Excel), read line by line; None when they
    are simply consecutive (2, 3, 4…) or when the text cannot be split into records."""
    numbers = array("q")
    try:
        with io.TextIOWrapper(io.BytesIO(body), encoding=encoding, newline="\n") as text:
            records = csv.reader(text, delimiter=delimiter, skipinitialspace=True)
            for number, record in enumerate(records, start=1):
                if len(record) > 1 or (record and record[0].strip()):
                    numbers.append(number)
    except csv.Error:
        return None
    data_rows = np.frombuffer(numbers, dtype=np.int64)[1:]
    if np.array_equal(data_rows, np.arange(2, 2 + len(data_rows))):
        return None
    return tuple(int(n) for n in data_rows)


def _read_excel(
    path: Path,
    label: str,
    *,
    sheet: str | None,
    header_row: int | None,
    header_names: Collection[str],
) -> tuple[pd.DataFrame, TableSource]:
    """The one sheet of a workbook that holds data (or ``sheet``), from its header row."""
    try:
        with pd.ExcelFile(path, engine="openpyxl") as workbook:
            tops = {
                name: pd.read_excel(
                    workbook, sheet_name=name, header=None, dtype=str, nrows=HEADER_SEARCH_ROWS
                )
                for name in workbook.sheet_names
            }
            name, warnings = _choose_sheet(workbook, tops, sheet, header_names, label)
            header, header_warnings = _header_choice(
                tops[name].to_numpy(dtype=object).tolist(),
                header_row=header_row,
                header_names=header_names,
                label=label,
            )
            _refuse_header_below_the_end(header, len(tops[name]), label)
            frame = pd.read_excel(workbook, sheet_name=name, header=header, dtype=str)
    except InputFormatError:
        raise
    except (zipfile.BadZipFile, ValueError, KeyError) as exc:
        raise InputFormatError(
            GeoMessage.of("tables.errors.xlsx_unreadable", file=label, detail=str(exc))
        ) from exc
    part = name if len(tops) > 1 else None
    source = TableSource(
        label,
        "table",
        header_row=header + 1,
        part=part,
        warnings=tuple(warnings + header_warnings),
    )
    return frame, source


def _has_cells(frame: pd.DataFrame) -> bool:
    return bool(frame.notna().to_numpy().any())


def _choose_sheet(
    workbook: pd.ExcelFile,
    tops: dict[str, pd.DataFrame],
    sheet: str | None,
    header_names: Collection[str],
    label: str,
) -> tuple[str, list[Problem]]:
    """The sheet to read: ``sheet``; else the only sheet with cells; else the only one with a
    header of the expected names (a warning names the sheets skipped). Several sheets with
    data are refused, listing them with their rows."""
    names = list(tops)
    if sheet is not None:
        if sheet in names:
            return sheet, []
        raise InputFormatError(
            GeoMessage.of(
                "tables.errors.no_sheet",
                file=label,
                sheet=sheet,
                sheets=tuple(repr(n) for n in names),
            )
        )
    full = {}
    for name in names:
        if not _has_cells(tops[name]):
            full[name] = pd.read_excel(workbook, sheet_name=name, header=None, dtype=str)
    filled = [n for n in names if _has_cells(full.get(n, tops[n]))]
    if len(filled) <= 1:
        return (filled or names)[0], []
    headed = [
        n
        for n in filled
        if header_index(tops[n].to_numpy(dtype=object).tolist(), header_names) is not None
    ]
    if len(headed) == 1:
        skipped = [n for n in filled if n != headed[0]]
        return headed[0], [
            Problem.of(
                "warning",
                label,
                GeoMessage.of(
                    "tables.sheet_chosen",
                    sheet=headed[0],
                    skipped=tuple(repr(n) for n in skipped),
                    count=len(filled),
                ),
            )
        ]
    whole = {n: pd.read_excel(workbook, sheet_name=n, header=None, dtype=str) for n in filled}
    listing = tuple(
        GeoMessage.of("tables.word.sheet_rows", name=n, rows=_data_rows(frame))
        for n, frame in whole.items()
    )
    raise InputFormatError(
        GeoMessage.of(
            "tables.errors.several_sheets", file=label, count=len(filled), listing=listing
        )
    )


def _data_rows(frame: pd.DataFrame) -> int:
    """Rows with a cell under the first row with one (the header)."""
    return max(int(frame.notna().any(axis=1).sum()) - 1, 0)


def _read_spatial(
    path: Path, label: str, *, layer: str | None
) -> tuple[gpd.GeoDataFrame, TableSource]:
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".geoparquet"):
            _refuse_layer(layer, suffix, label)
            return _read_geoparquet(path), TableSource(label, "spatial")
        options: dict[str, str] = {}
        part = member = None
        target = str(path)
        if suffix == ".zip":
            member = _shapefile_in_zip(path, label, layer)
            target = f"zip://{path.resolve()}!{member}"
            part = member if layer is not None else None
        elif suffix == ".gpkg":
            part = _gpkg_layer(path, label, layer)
            if part is not None:
                options["layer"] = part
        else:
            _refuse_layer(layer, suffix, label)
        warnings: list[Problem] = []
        if suffix in (".shp", ".zip"):
            encoding, warnings = _dbf_encoding(path, member, label)
            if encoding:
                options["encoding"] = encoding
        frame = gpd.read_file(target, **options)
    except InputFormatError:
        raise
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InputFormatError(
            GeoMessage.of(
                "tables.errors.spatial_incomplete", file=label, suffix=suffix, detail=str(exc)
            )
        ) from exc
    except (ValueError, OSError) as exc:
        raise InputFormatError(
            GeoMessage.of(
                "tables.errors.spatial_unreadable", file=label, suffix=suffix, detail=str(exc)
            )
        ) from exc
    return frame, TableSource(label, "spatial", part=part, warnings=tuple(warnings))


def _read_geoparquet(path: Path) -> gpd.GeoDataFrame:
    """A GeoParquet file as geopandas reads it; one of more than :data:`PARQUET_BATCH_ROWS`
    rows (and a plain row index) converted a batch at a time, so the file's columns are
    never held in Arrow and in pandas at once."""
    file = pq.ParquetFile(path)
    schema = file.schema_arrow
    indexes = (schema.pandas_metadata or {}).get("index_columns", [])
    plain_index = all(isinstance(i, dict) and i.get("kind") == "range" for i in indexes)
    if file.metadata.num_rows <= PARQUET_BATCH_ROWS or not plain_index:
        return gpd.read_parquet(path)
    geo_metadata = _validate_and_decode_metadata(schema.metadata)
    batches = [
        _arrow_to_geopandas(pa.Table.from_batches([batch], schema=schema), geo_metadata)
        for batch in file.iter_batches(batch_size=PARQUET_BATCH_ROWS)
    ]
    frame = pd.concat(batches, ignore_index=True)
    if indexes:  # the range the index was written with
        start, step = indexes[0]["start"], indexes[0]["step"]
        frame.index = pd.RangeIndex(start, start + step * len(frame), step)
    return frame


def _refuse_layer(layer: str | None, suffix: str, label: str) -> None:
    if layer is not None:
        raise InputFormatError(
            GeoMessage.of("tables.errors.layer_not_allowed", file=label, layer=layer, suffix=suffix)
        )


def _several(label: str, what: str, counts: dict[str, int], option: str) -> InputFormatError:
    """The refusal of a file holding several layers (or Shapefiles) with data."""
    listing = tuple(
        GeoMessage.of("tables.word.part_features", name=name, count=count)
        for name, count in counts.items()
    )
    return InputFormatError(
        GeoMessage.of(
            "tables.errors.several_parts",
            file=label,
            count=len(counts),
            what=GeoMessage.of(f"tables.word.{what}"),
            listing=listing,
            option=option,
        )
    )


def _gpkg_layer(path: Path, label: str, layer: str | None) -> str | None:
    """The layer of a GeoPackage to read: ``layer``, else the only one (with features)."""
    names = [str(row[0]) for row in pyogrio.list_layers(path)]
    if layer is not None:
        if layer in names:
            return layer
        raise InputFormatError(
            GeoMessage.of(
                "tables.errors.no_gpkg_layer",
                file=label,
                layer=layer,
                layers=tuple(repr(n) for n in names),
            )
        )
    if len(names) <= 1:
        return None
    counts = {name: int(pyogrio.read_info(path, layer=name)["features"]) for name in names}
    filled = [name for name, count in counts.items() if count != 0]
    if len(filled) == 1:
        return filled[0]
    raise _several(label, "layers", {n: counts[n] for n in filled or names}, "layer")


def _shapefile_in_zip(path: Path, label: str, layer: str | None = None) -> str:
    """The member of a zip archive that is the Shapefile to read: the only one, or the one
    ``layer`` names (by its name or its stem)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.lower().endswith(".shp")]
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputFormatError(
            GeoMessage.of("tables.errors.zip_unreadable", file=label, detail=str(exc))
        ) from exc
    if not names:
        raise InputFormatError(GeoMessage.of("tables.errors.zip_no_shp", file=label))
    if layer is not None:
        chosen = [n for n in names if layer in (n, Path(n).name, Path(n).stem)]
        if chosen:
            return chosen[0]
        raise InputFormatError(
            GeoMessage.of(
                "tables.errors.zip_no_member",
                file=label,
                layer=layer,
                layers=tuple(repr(Path(n).stem) for n in names),
            )
        )
    if len(names) == 1:
        return names[0]
    counts = {
        Path(n).stem: int(pyogrio.read_info(f"zip://{path.resolve()}!{n}")["features"])
        for n in names
    }
    raise _several(label, "shapefiles", counts, "layer")


def _dbf_parts(path: Path, member: str | None) -> tuple[bytes | None, bool]:
    """The bytes of a Shapefile's .dbf (None without one) and whether a .cpg stands beside
    it; ``member`` is the .shp inside the zip ``path``, None for a plain .shp."""
    if member is None:
        siblings = {p.suffix.lower(): p for p in path.parent.glob(f"{glob.escape(path.stem)}.*")}
        dbf = siblings.get(".dbf")
        return (dbf.read_bytes() if dbf else None), ".cpg" in siblings
    stem = member[:-4]
    with zipfile.ZipFile(path) as archive:
        parts = {n[len(stem) :].lower(): n for n in archive.namelist() if n[: len(stem)] == stem}
        name = parts.get(".dbf")
        return (archive.read(name) if name else None), ".cpg" in parts


def _dbf_text(raw: bytes) -> bytes:
    """The field names and records of a .dbf: the bytes its text encoding applies to."""
    header_length = int.from_bytes(raw[8:10], "little")
    names = []
    for start in range(32, max(header_length - 1, 32), 32):
        if raw[start] == 0x0D:
            break
        names.append(raw[start : start + 11].split(b"\0")[0])
    return b"".join(names) + raw[header_length:].rstrip(b"\x1a")


def _dbf_encoding(path: Path, member: str | None, label: str) -> tuple[str | None, list[Problem]]:
    """The encoding to read a Shapefile's text in when it does not say (no .cpg, no code page
    in the .dbf): UTF-8 when its text is UTF-8, else GB18030 with a warning; None to let the
    reader decide (a .cpg, a code page, or plain ASCII)."""
    raw, has_cpg = _dbf_parts(path, member)
    if has_cpg or raw is None or len(raw) < 32 or raw[29] != 0:
        return None, []
    text = _dbf_text(raw)
    if text.isascii():
        return None, []
    try:
        text.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8", []
    try:
        sample = text.decode("gb18030")
    except UnicodeDecodeError:
        return None, []
    found = tuple(sorted(set(re.findall(r"[^\x00-\x7f]+", sample)))[:3])
    return "gb18030", [
        Problem.of("warning", label, GeoMessage.of("tables.dbf_gb18030", sample=found))
    ]


def read_table(
    path: str | Path,
    *,
    label: str | None = None,
    sheet: str | None = None,
    layer: str | None = None,
    header_row: int | None = None,
    header_names: Collection[str] = (),
) -> tuple[pd.DataFrame, TableSource]:
    """Read a table or spatial file, whole or not at all.

    Parameters
    ----------
    path
        The file. Its suffix chooses the reader.
    label
        How messages name the file (default: its name).
    sheet
        The sheet of a workbook to read; needed when several sheets hold data.
    layer
        The layer of a GeoPackage (or the Shapefile of a zip) to read; needed when there are
        several.
    header_row
        Row number of a table's header as a spreadsheet shows it (default: the first row
        holding ``header_names``, else row 1).
    header_names
        Column names a table's header holds; a title above it is found and skipped with a
        warning (none given: the header is row 1).

    Returns
    -------
    (frame, source)
        ``frame`` is a DataFrame of text cells for tables, a GeoDataFrame for spatial files;
        ``source`` says what was read and carries the reader's warnings.
    """
    path = Path(path)
    label = label or path.name
    if not path.exists():
        raise InputFormatError(
            GeoMessage.of("tables.errors.no_such_file", file=label, path=str(path))
        )
    suffix = path.suffix.lower()
    if path.stat().st_size == 0:
        raise InputFormatError(GeoMessage.of("tables.errors.zero_bytes", file=label))
    _refuse_misplaced_options(suffix, label, sheet=sheet, header_row=header_row)
    if suffix in (".csv", ".txt"):
        _refuse_layer(layer, suffix, label)
        frame, source = _read_csv(path, label, header_row=header_row, header_names=header_names)
    elif suffix in (".xlsx", ".xlsm"):
        _refuse_layer(layer, suffix, label)
        frame, source = _read_excel(
            path, label, sheet=sheet, header_row=header_row, header_names=header_names
        )
    elif suffix in SPATIAL_SUFFIXES:
        frame, source = _read_spatial(path, label, layer=layer)
    else:
        raise InputFormatError(
            GeoMessage.of(
                "tables.errors.unknown_type",
                file=label,
                suffix=suffix or "(none)",
                suffixes=TABLE_SUFFIXES + SPATIAL_SUFFIXES,
            )
        )
    if len(frame) == 0:
        raise InputFormatError(GeoMessage.of("tables.errors.no_data_rows", file=label))
    return frame, source


def _refuse_misplaced_options(
    suffix: str, label: str, *, sheet: str | None, header_row: int | None
) -> None:
    """A sheet only for a workbook, a header row only for a table."""
    if sheet is not None and suffix not in (".xlsx", ".xlsm"):
        raise InputFormatError(
            GeoMessage.of("tables.errors.sheet_not_allowed", file=label, sheet=sheet, suffix=suffix)
        )
    if header_row is not None and suffix not in TABLE_SUFFIXES:
        raise InputFormatError(
            GeoMessage.of(
                "tables.errors.header_row_not_allowed", file=label, row=header_row, suffix=suffix
            )
        )


@dataclass(frozen=True)
class FilePart:
    """One sheet of a workbook, or one layer of a GeoPackage (or Shapefile of a zip): its
    name (what ``sheet=`` / ``layer=`` of :func:`read_table` take), what it is (``"sheet"`` or
    ``"layer"``) and how many rows or features it holds (a sheet's rows as its dimension
    says, header included; None when unknown)."""

    name: str
    kind: str
    rows: int | None


def list_parts(path: str | Path, *, label: str | None = None) -> tuple[FilePart, ...]:
    """The sheets of a workbook, the layers of a GeoPackage or the Shapefiles of a zip, in
    file order; empty for a file that holds one table or layer (CSV, GeoJSON, Parquet…).

    Raises
    ------
    InputFormatError
        When the file cannot be opened as what its suffix says.
    """
    path = Path(path)
    label = label or path.name
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            return _workbook_parts(path)
        if suffix == ".gpkg":
            return tuple(
                FilePart(str(name), "layer", _features(str(path), layer=str(name)))
                for name, _geometry in pyogrio.list_layers(path)
            )
        if suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                members = [n for n in archive.namelist() if n.lower().endswith(".shp")]
            return tuple(
                FilePart(Path(n).stem, "layer", _features(f"zip://{path.resolve()}!{n}"))
                for n in members
            )
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise InputFormatError(
            GeoMessage.of("tables.errors.cannot_open", file=label, suffix=suffix, detail=str(exc))
        ) from exc
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InputFormatError(
            GeoMessage.of(
                "tables.errors.cannot_open_spatial", file=label, suffix=suffix, detail=str(exc)
            )
        ) from exc
    return ()


def _workbook_parts(path: Path) -> tuple[FilePart, ...]:
    """The sheets of a workbook with the rows their dimension declares (nothing loaded)."""
    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        return tuple(
            FilePart(sheet.title, "sheet", getattr(sheet, "max_row", None))
            for sheet in workbook.worksheets
        )
    finally:
        workbook.close()


def _features(target: str, *, layer: str | None = None) -> int | None:
    count = pyogrio.read_info(target, layer=layer, force_feature_count=True)["features"]
    return int(count) if count is not None and count >= 0 else None
