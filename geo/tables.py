"""Read one input file, whatever its format, into a DataFrame or GeoDataFrame.

Tables (CSV in UTF-8, UTF-8 with BOM or GBK/GB18030; XLSX) come back as a ``DataFrame`` of
text cells, so codes such as ``330203001001`` or ``007`` keep their digits. Spatial files
(GeoJSON, GeoPackage, Shapefile — also zipped — and GeoParquet) come back as a
``GeoDataFrame`` with the CRS the file declares. Nothing is converted or dropped here.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio.errors

from geo.errors import InputFormatError

__all__ = [
    "SPATIAL_SUFFIXES",
    "TABLE_SUFFIXES",
    "TableSource",
    "decode_text",
    "read_table",
]

TABLE_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm")
SPATIAL_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".zip", ".parquet", ".geoparquet")

#: Encodings tried in order. ``utf-8-sig`` also reads plain UTF-8; GB18030 is a superset of
#: GBK and GB2312, which is what Excel on a Chinese Windows writes.
CSV_ENCODINGS = ("utf-8-sig", "gb18030")


@dataclass(frozen=True)
class TableSource:
    """What was read and how, for messages: the file's name and how rows are numbered."""

    label: str
    kind: str  # "table" or "spatial"
    encoding: str | None = None
    #: Row number a person sees on each data row, when it is not simply consecutive (a CSV
    #: with blank lines: pandas skips them, Excel still counts them).
    shown_rows: tuple[int, ...] | None = field(default=None, repr=False, compare=False)

    @property
    def first_row_number(self) -> int:
        """Number a person sees on the first data row: 2 in a spreadsheet (row 1 is the
        header), 1 for the first feature of a spatial file."""
        return 2 if self.kind == "table" else 1

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
        line = raw[: exc.start].count(b"\n") + 1
        where = f"line {line} (byte {exc.start})"
    raise InputFormatError(
        f"{label}: the text cannot be decoded; first bad byte at {where}. "
        f"expected: text in UTF-8, UTF-8 with BOM, or GBK/GB18030; "
        f"found: bytes that are none of these. "
        "fix: open the file in Excel or a text editor and save it as 'CSV UTF-8'."
    )


def _record_numbers(text: str, delimiter: str) -> tuple[int, ...] | None:
    """Spreadsheet row number of each data record, counting the blank lines pandas skips (a
    quoted cell spanning lines is one record, as in Excel); None when the text cannot be
    split into records."""
    numbers = []
    try:
        records = csv.reader(io.StringIO(text), delimiter=delimiter, skipinitialspace=True)
        for number, record in enumerate(records, start=1):
            if len(record) > 1 or (record and record[0].strip()):
                numbers.append(number)
    except csv.Error:
        return None
    return tuple(numbers[1:])


def _read_csv(path: Path, label: str) -> tuple[pd.DataFrame, str, tuple[int, ...] | None]:
    raw = path.read_bytes()
    if not raw.strip():
        raise InputFormatError(
            f"{label}: the file is empty. expected: a header row and at least one data row; "
            "found: no text. fix: export the data again."
        )
    text, encoding = decode_text(raw, label=label)
    sample = text[:20_000]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            skipinitialspace=True,
        )
    except pd.errors.ParserError as exc:
        raise InputFormatError(
            f"{label}: the CSV cannot be parsed ({exc}). expected: one header row and the same "
            "number of fields in every row; fix: check the rows named for stray separators or "
            "unclosed quotes."
        ) from exc
    except pd.errors.EmptyDataError as exc:
        raise InputFormatError(
            f"{label}: the file has no columns. expected: a header row; fix: export again."
        ) from exc
    return frame, encoding, _record_numbers(text, delimiter)


def _read_excel(path: Path, label: str) -> pd.DataFrame:
    try:
        frame = pd.read_excel(path, dtype=str, engine="openpyxl")
    except (zipfile.BadZipFile, ValueError, KeyError) as exc:
        raise InputFormatError(
            f"{label}: not a readable .xlsx workbook ({exc}). fix: save it from Excel as "
            "'Excel Workbook (.xlsx)' or as 'CSV UTF-8'."
        ) from exc
    return frame


def _read_spatial(path: Path, label: str) -> gpd.GeoDataFrame:
    suffix = path.suffix.lower()
    target = _shapefile_in_zip(path, label) if suffix == ".zip" else path
    try:
        if suffix in (".parquet", ".geoparquet"):
            return gpd.read_parquet(path)
        return gpd.read_file(target)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InputFormatError(
            f"{label}: cannot be read as {suffix} ({exc}). fix: check that the file is complete "
            "(a Shapefile needs its .shx and .dbf beside it) and open it in QGIS to confirm."
        ) from exc
    except (ValueError, OSError) as exc:
        raise InputFormatError(
            f"{label}: cannot be read as {suffix} ({exc}). fix: export the layer again from "
            "your GIS and check that it opens in QGIS."
        ) from exc


def _shapefile_in_zip(path: Path, label: str) -> str:
    """The GDAL path of the Shapefile inside a zip archive."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.lower().endswith(".shp")]
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputFormatError(
            f"{label}: not a readable zip archive ({exc}). expected: a zipped Shapefile "
            "(.shp, .shx, .dbf, .prj, .cpg); fix: zip the parts of the Shapefile again."
        ) from exc
    if not names:
        raise InputFormatError(
            f"{label}: the zip holds no .shp file. expected: a zipped Shapefile "
            "(.shp, .shx, .dbf, .prj, .cpg); fix: zip all parts of the Shapefile."
        )
    return f"zip://{path.resolve()}!{names[0]}"


def read_table(path: str | Path, *, label: str | None = None) -> tuple[pd.DataFrame, TableSource]:
    """Read a table or spatial file.

    Parameters
    ----------
    path
        The file. Its suffix chooses the reader.
    label
        How messages name the file (default: its name).

    Returns
    -------
    (frame, source)
        ``frame`` is a DataFrame of text cells for tables, a GeoDataFrame for spatial files.
    """
    path = Path(path)
    label = label or path.name
    if not path.exists():
        raise InputFormatError(f"{label}: no such file ({path}). fix: check the path.")
    suffix = path.suffix.lower()
    if path.stat().st_size == 0:
        raise InputFormatError(
            f"{label}: the file is empty (0 bytes). expected: data; fix: export the data again."
        )
    if suffix in (".csv", ".txt"):
        frame, encoding, shown_rows = _read_csv(path, label)
        source = TableSource(label, "table", encoding, shown_rows)
    elif suffix in (".xlsx", ".xlsm"):
        frame = _read_excel(path, label)
        source = TableSource(label, "table")
    elif suffix in SPATIAL_SUFFIXES:
        frame = _read_spatial(path, label)
        source = TableSource(label, "spatial")
    else:
        raise InputFormatError(
            f"{label}: unknown file type '{suffix or '(none)'}'. expected one of "
            f"{', '.join(TABLE_SUFFIXES + SPATIAL_SUFFIXES)}; fix: save it as CSV, XLSX, "
            "GeoJSON, GeoPackage, Shapefile (zipped) or GeoParquet."
        )
    if len(frame) == 0:
        raise InputFormatError(
            f"{label}: the file has a header but no data rows. expected: at least one row; "
            "fix: export the data again."
        )
    return frame, source
