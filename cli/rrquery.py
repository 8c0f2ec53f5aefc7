"""``rrquery``: query .rrd recordings by entity and time, and export them as datasets.

Exit codes: 0 success; 1 an unexpected failure (e.g. a corrupt chunk); 2 bad input (a
missing or non-.rrd file, an unknown entity or timeline, a reversed range, an output that
exists without ``--force``, a bad SQL query). A truncated file is queried on its sound
prefix, with one warning line on stderr.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import sys
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import click
import polars as pl

import rrquery
from rrformat import errors as rrquery_errors
from rrformat.chunk import TimelineKind
from rrformat.entity_path import EntityPathPattern
from rrquery._catalog import CACHE_NAME, catalog_frame, scan_directory
from rrquery._export import (
    FORMATS,
    ExportError,
    ExportResult,
    OutputExistsError,
    _match,
    check_text_format,
    encode_nested,
    plan_export,
    write_frame,
)
from rrquery._export_many import plan_export_many
from rrquery._many import ID_COLUMNS, RecordingSet, SkippedDataWarning, expand_paths
from rrquery._recording import Recording, TruncatedRecordingWarning
from rrquery._timebounds import to_timeline_value

from ._common import ErrorHandlingGroup, RrdFile, fail, human_size, progress_bar, usage_errors

__all__ = ["main"]

_FILE = RrdFile()
_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
_FORMAT_LIST = ", ".join(FORMATS)


# --- shared helpers ------------------------------------------------------------------------
def _recording_option(f: Any) -> Any:
    return click.option(
        "--recording",
        metavar="ID",
        help="Recording id (or index) for files that hold several recordings.",
    )(f)


def _recording_arg(value: str | None) -> str | int | None:
    if value is None:
        return None
    return int(value) if value.isdigit() else value


def _open(file: Path, recording: str | None) -> Recording:
    """Open a recording; a truncated file's warning becomes one line on stderr."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with usage_errors(ValueError):
            rec = rrquery.open(file, recording=_recording_arg(recording))
    for w in caught:
        if issubclass(w.category, TruncatedRecordingWarning):
            click.echo(f"rrquery: warning: {' '.join(str(w.message).split())}", err=True)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return rec


def _application_option(f: Any) -> Any:
    return click.option(
        "--application-id",
        "application_id",
        metavar="ID",
        multiple=True,
        help="Several files: only recordings of this application (repeatable).",
    )(f)


_GLOB_CHARS = frozenset("*?[")


def _inputs(values: Sequence[str], *, force_many: bool = False) -> tuple[list[Path], bool]:
    """The files named by FILE arguments, and whether they are many recordings.

    One existing file is queried on its own (no id columns); several files, globs
    (quoted, so that the shell leaves them: 'runs/**/*.rrd') and directories are many.
    Files named explicitly must be .rrd files; a file a glob or directory brings in that
    is not readable is left out with a warning.
    """
    ctx = click.get_current_context()
    param = next((p for p in ctx.command.params if p.name == "files"), None)
    many = force_many or len(values) > 1
    out: list[Path] = []
    for text in values:
        path = Path(text)
        if path.is_dir() or (not path.exists() and any(ch in _GLOB_CHARS for ch in text)):
            many = True
            try:
                out.extend(Path(p) for p in expand_paths(text))
            except FileNotFoundError:
                what = "no .rrd file in directory" if path.is_dir() else "no file matches"
                raise click.BadParameter(f"{what} {text!r}", ctx=ctx, param=param) from None
            continue
        out.append(_FILE.convert(text, param, ctx))
    return out, many


@contextlib.contextmanager
def _file_warnings() -> Iterator[None]:
    """Damaged and skipped files as one ``rrquery: warning:`` line each on stderr (once per message)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            seen: set[str] = set()
            for w in caught:
                if issubclass(w.category, (TruncatedRecordingWarning, SkippedDataWarning)):
                    text = " ".join(str(w.message).split())
                    if text not in seen:
                        seen.add(text)
                        click.echo(f"rrquery: warning: {text}", err=True)
                else:
                    warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _open_many(paths: Sequence[Path], recording: str | None, application_id: Sequence[str]) -> RecordingSet:
    with usage_errors(ValueError):
        return rrquery.open_many(
            paths,
            recording_id=None if recording is None else [recording],
            application_id=list(application_id) or None,
        )


def _patterns(values: Sequence[str]) -> list[str]:
    for text in values:
        try:
            EntityPathPattern.parse(text)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--entity") from None
    return list(values)


def _matched(rec: Recording, patterns: Sequence[str]) -> list[str]:
    with usage_errors(ValueError):
        return _match(rec, patterns)


def _check_bounds(
    rec: Recording | RecordingSet, timeline: str | None, start: str | None, end: str | None, option: str
) -> None:
    """Validate --from/--to on a timeline, with messages naming the options."""
    if timeline is None:
        if start is not None or end is not None:
            raise click.UsageError(f"--from/--to need {option} (the timeline they apply to)")
        return
    with usage_errors(ValueError):
        kind = rec.timeline_kind(timeline)
        lo = to_timeline_value(start, kind, arg="--from", timeline=timeline)
        hi = to_timeline_value(end, kind, arg="--to", timeline=timeline)
    if lo is not None and hi is not None and lo > hi:
        fail(f"--from {start} is after --to {end}")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _time_text(ns: int, *, date: bool = True) -> str:
    t = dt.datetime.fromtimestamp(ns // 1_000_000_000, tz=dt.timezone.utc)
    ms = (ns % 1_000_000_000) // 1_000_000
    text = t.strftime("%Y-%m-%dT%H:%M:%S" if date else "%H:%M:%S")
    return f"{text}.{ms:03d}Z" if ms else f"{text}Z"


def _duration(ns: int) -> str:
    s = ns / 1e9
    if 0 < s < 1:
        return f"{s * 1e3:.3g} ms"
    if s < 60:
        return f"{s:.3g} s"
    if s < 3600:
        return f"{int(s // 60)} min {s % 60:.0f} s"
    return f"{int(s // 3600)} h {int(s % 3600 // 60)} min"


def _span(kind: str, lo: int | None, hi: int | None) -> str:
    if lo is None or hi is None:
        return "-"
    if kind == TimelineKind.SEQUENCE.value:
        return f"{lo}..{hi}"
    same_day = lo // 86_400_000_000_000 == hi // 86_400_000_000_000
    return f"{_time_text(lo)} .. {_time_text(hi, date=not same_day)} ({_duration(hi - lo)})"


def _print_text_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], right: frozenset[int] = frozenset()
) -> None:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        out = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))]
        return "  ".join(out).rstrip()

    click.echo(line(headers))
    for r in rows:
        click.echo(line(r))


def _short_cells(frame: pl.DataFrame) -> pl.DataFrame:
    """Images and tensors as ``dtype [shape]``, other binary values as their size."""
    exprs = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if isinstance(dtype, pl.Struct) and {"shape", "dtype", "data"} <= {f.name for f in dtype.fields}:
            shape = col.struct.field("shape").list.eval(pl.element().cast(pl.String)).list.join(", ")
            text = pl.format("{} [{}]", col.struct.field("dtype"), shape)
            exprs.append(pl.when(col.is_null()).then(None).otherwise(text).alias(name))
        elif isinstance(dtype, pl.Binary):
            exprs.append(pl.format("<{} bytes>", col.bin.size()).alias(name))
    return frame.with_columns(exprs) if exprs else frame


@contextlib.contextmanager
def _table_config(rows: int) -> Iterator[None]:
    width = shutil.get_terminal_size((120, 24)).columns
    encoding = (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "")
    with pl.Config(
        tbl_rows=rows,
        tbl_cols=-1,
        tbl_width_chars=max(60, width),
        fmt_str_lengths=40,
        fmt_table_cell_list_len=4,
        tbl_formatting="UTF8_FULL_CONDENSED" if encoding == "utf8" else "ASCII_FULL_CONDENSED",
    ):
        yield


# --- the group ---------------------------------------------------------------------------------
@click.group("rrquery", cls=ErrorHandlingGroup, context_settings=_CONTEXT)
@click.version_option(package_name="rrkit", prog_name="rrquery")
def main() -> None:
    """Query .rrd recordings by entity path and time range; export them to Parquet, CSV or Arrow.

    Entity patterns are globs over entity paths: '*' matches one part, '**' any number
    ('world/**' is world and everything below it). Time bounds (--from/--to) are integers
    on sequence timelines, and seconds since the epoch or ISO-8601 times
    (2026-01-01T12:00:00Z) on time timelines. A truncated file (a crashed robot's) is
    queried on its sound prefix with one warning on stderr.

    Exit codes: 0 success; 1 unexpected failure; 2 bad input (missing or non-.rrd file,
    unknown entity or timeline, reversed range, existing output without --force, bad SQL).

    Many recordings are one dataset: 'catalog' lists those under a directory, and
    'export' and 'sql' take several files, directories and quoted globs
    ('runs/**/*.rrd'), adding application_id and recording_id columns.

    \b
    Example:
      rrquery ls run.rrd
      rrquery show run.rrd --entity 'robot/**' --timeline frame --from 100 --to 120
      rrquery export run.rrd -o out/ --entity '**'
      rrquery catalog runs/
      rrquery export 'runs/**/*.rrd' -o speed.parquet --entity robot/speed
    """


# --- ls, timelines, schema --------------------------------------------------------------------
@main.command("ls", context_settings=_CONTEXT)
@click.argument("file", type=_FILE)
@click.option("--entity", "patterns", metavar="PATTERN", multiple=True, help="Only entities matching this glob.")
@_recording_option
def ls(file: Path, patterns: tuple[str, ...], recording: str | None) -> None:
    """List entities: data kind, rows, and time span on each timeline.

    Reads only the file's index, so it is fast on large files.

    \b
    Example:
      rrquery ls run.rrd
      rrquery ls run.rrd --entity 'world/**'
    """
    rec = _open(file, recording)
    wanted = set(_matched(rec, _patterns(patterns))) if patterns else None
    timelines = rec.timelines()
    names = timelines.get_column("name").to_list()
    kinds = dict(zip(names, timelines.get_column("kind").to_list(), strict=True))
    groups: dict[tuple[str, str, bool], list[Any]] = {}
    for c in rec.index:
        if wanted is not None and c.entity not in wanted:
            continue
        g = groups.setdefault((c.entity, c.kind, c.timeless), [0, {}])
        g[0] += c.rows
        for name, r in c.timelines.items():
            if r.min is None or r.max is None:
                continue
            lo, hi = g[1].get(name, (r.min, r.max))
            g[1][name] = (min(lo, r.min), max(hi, r.max))
    rows = []
    for (entity, kind, timeless), (n, spans) in sorted(groups.items()):
        cells = [entity, kind + (" (timeless)" if timeless else ""), str(n)]
        cells += [_span(kinds[t], *spans.get(t, (None, None))) for t in names]
        rows.append(cells)
    if not rows:
        click.echo("(no entities)")
        return
    _print_text_table(["entity", "kind", "rows", *names], rows, right=frozenset({2}))


@main.command("timelines", context_settings=_CONTEXT)
@click.argument("file", type=_FILE)
@_recording_option
def timelines_(file: Path, recording: str | None) -> None:
    """List the timelines: kind (sequence or time), first and last value, span.

    \b
    Example:
      rrquery timelines run.rrd
    """
    rec = _open(file, recording)
    rows = []
    for t in rec.timelines().iter_rows(named=True):
        lo, hi = t["min"], t["max"]
        if t["kind"] == TimelineKind.TIME.value:
            first = _time_text(lo) if lo is not None else "-"
            last = _time_text(hi) if hi is not None else "-"
            span = _duration(hi - lo) if lo is not None and hi is not None else "-"
        else:
            first = str(lo) if lo is not None else "-"
            last = str(hi) if hi is not None else "-"
            span = f"{hi - lo + 1} steps" if lo is not None and hi is not None else "-"
        rows.append([t["name"], t["kind"], first, last, span])
    if not rows:
        click.echo("(no timelines: every row is timeless)")
        return
    _print_text_table(["timeline", "kind", "first", "last", "span"], rows)


@main.command("schema", context_settings=_CONTEXT)
@click.argument("file", type=_FILE)
@click.argument("entity", required=False)
@_recording_option
def schema(file: Path, entity: str | None, recording: str | None) -> None:
    """Show the query columns of an entity (or of every entity) and their Polars types.

    ENTITY may be a glob. The columns are those of 'show', 'export' and 'sql': entity,
    row_id, the timelines (times as Datetime(ns, UTC)), then the components.

    \b
    Example:
      rrquery schema run.rrd world/points
      rrquery schema run.rrd
    """
    rec = _open(file, recording)
    entities = _matched(rec, _patterns([entity or "**"]))
    listing = rec.entities()
    kinds: dict[str, list[str]] = {}
    for row in listing.iter_rows(named=True):
        kinds.setdefault(row["entity"], [])
        if row["kind"] not in kinds[row["entity"]]:
            kinds[row["entity"]].append(row["kind"])
    for i, name in enumerate(entities):
        if i:
            click.echo("")
        click.echo(f"{name}  ({', '.join(kinds.get(name, []))})")
        cols = rec.schema(name)
        width = max(len(c) for c in cols)
        for col, dtype in cols.items():
            click.echo(f"  {col:<{width}}  {dtype}")


# --- show ---------------------------------------------------------------------------------------
_BOUND_OPTIONS = [
    click.option("--timeline", metavar="T", help="Timeline of the bounds; only rows on it (and timeless rows)."),
    click.option("--from", "start", metavar="A", help="First value (inclusive) on the timeline."),
    click.option("--to", "end", metavar="B", help="Last value (inclusive) on the timeline."),
]


def _bound_options(f: Any) -> Any:
    for option in reversed(_BOUND_OPTIONS):
        f = option(f)
    return f


@main.command("show", context_settings=_CONTEXT)
@click.argument("file", type=_FILE)
@click.option("--entity", "patterns", metavar="PATTERN", multiple=True, required=True, help="Entity glob (repeatable).")
@_bound_options
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Rows to print.")
@_recording_option
def show(
    file: Path,
    patterns: tuple[str, ...],
    timeline: str | None,
    start: str | None,
    end: str | None,
    limit: int,
    recording: str | None,
) -> None:
    """Print the rows of matching entities as a table.

    Rows come in time order on --timeline (by row id without one); timeless rows first.
    Columns with no value in the printed rows are left out; images and tensors are shown
    as 'dtype [shape]', other binary data as its size, long lists and strings shortened.

    \b
    Example:
      rrquery show run.rrd --entity plot/speed
      rrquery show run.rrd --entity 'world/**' --timeline frame --from 10 --to 20 --limit 50
    """
    rec = _open(file, recording)
    pats = _patterns(patterns)
    _matched(rec, pats)
    _check_bounds(rec, timeline, start, end, "--timeline")
    with usage_errors(ValueError):
        frame = rec.range(pats, timeline=timeline, start=start, end=end)
    total = frame.height
    frame = frame.head(limit)
    keep = [c for c in frame.columns if c in ("entity", "row_id") or frame.get_column(c).null_count() < frame.height]
    frame = _short_cells(frame.select(keep))
    shown = f", showing the first {frame.height}" if frame.height < total else ""
    click.echo(f"{_plural(total, 'row')}{shown}")
    if frame.height:
        with _table_config(limit), pl.Config(tbl_hide_dataframe_shape=True):
            click.echo(str(frame))


# --- export -----------------------------------------------------------------------------------
def _sample(value: str | None) -> float | int | None:
    if value is None:
        return None
    try:
        rate = float(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a number", param_hint="--sample") from None
    if not rate > 0 or rate == float("inf"):
        raise click.BadParameter(f"{value!r} must be a positive number", param_hint="--sample")
    return int(rate) if rate.is_integer() else rate


@main.command("export", context_settings=_CONTEXT)
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option(
    "-o", "--output", "out", metavar="OUT", required=True, help="Output file (format from its suffix) or directory."
)
@click.option("--entity", "patterns", metavar="PATTERN", multiple=True, required=True, help="Entity glob (repeatable).")
@_bound_options
@click.option("--wide", is_flag=True, help="One row per index value, one 'entity:component' column per component.")
@click.option("--index", metavar="T", help="Index timeline of --wide (default: --timeline).")
@click.option(
    "--fill",
    type=click.Choice(["latest", "none"]),
    default="latest",
    show_default=True,
    help="--wide: fill each cell with the latest value at or before its row, or leave nulls.",
)
@click.option("--sample", metavar="HZ", help="--wide: rows on a grid: a rate (Hz) on time, a step on sequence.")
@click.option("--force", is_flag=True, help="Overwrite output files that exist.")
@_recording_option
@_application_option
def export(
    files: tuple[str, ...],
    out: str,
    patterns: tuple[str, ...],
    timeline: str | None,
    start: str | None,
    end: str | None,
    wide: bool,
    index: str | None,
    fill: str,
    sample: str | None,
    force: bool,
    recording: str | None,
    application_id: tuple[str, ...],
) -> None:
    """Export the rows of matching entities to Parquet, CSV, Arrow IPC or NDJSON.

    FILE may be several files, directories (every .rrd file below) and quoted globs
    ('runs/**/*.rrd'). Many recordings are exported as one dataset: each file written
    has application_id and recording_id columns first and the rows of each recording in
    turn (a directory: one file per entity, with its rows of every recording); --wide
    computes each recording's table on its own (never filled from another recording).
    Files or records that cannot be read are left out with a warning. --recording and
    --application-id keep only the recordings with these ids.

    \b
    The format comes from OUT's suffix:
      .parquet                  Parquet (zstd). Images and tensors are kept as their
                                struct: shape, names, dtype and the binary data.
      .arrow .ipc .feather      Arrow IPC file; every column type, like Parquet.
      .csv                      CSV. List, array and struct columns (points, colours,
                                translations) are written as JSON text, e.g.
                                [[0.0,1.0,2.0]]. Binary columns (images, tensors,
                                encoded blobs) are refused: use Parquet or Arrow.
      .ndjson .jsonl            one JSON object per row; binary columns are refused.
      no suffix, ending in /,   a directory with one Parquet file per entity.
      or an existing directory

    \b
    File names in a directory export: the entity path with '/' between parts
    written '__', and every character other than A-Z a-z 0-9 _ - . # written as
    %XX (UTF-8), so quoted parts keep their quotes as %22:
      world/points   -> world__points.parquet
      logs/"my log"  -> logs__%22my%20log%22.parquet
    Names that would clash get a ~2, ~3 suffix; each file's 'entity' column holds
    the entity's path. Entities with no rows in the range get no file.

    A single file holds the columns entity, row_id, the timelines and the union of the
    components; rows are grouped by entity, each in time order (timeless rows first).
    --wide writes one table instead: one row per --index value (or per --sample step),
    one 'entity:component' column per component, filled with the latest value at or
    before the row (--fill none: only values logged at exactly that index value).

    \b
    Example:
      rrquery export run.rrd -o points.parquet --entity world/points
      rrquery export run.rrd -o out/ --entity '**' --timeline frame --from 100 --to 200
      rrquery export run.rrd -o speed.csv --entity 'plot/*' --timeline sensor_time \\
          --from 2026-01-01T12:00:00Z --to 2026-01-01T12:05:00Z
      rrquery export run.rrd -o train.parquet --entity 'robot/**' --wide --index sensor_time --sample 10
      rrquery export 'runs/**/*.rrd' -o speed.parquet --entity robot/speed --timeline frame --to 99
      rrquery export runs/ -o train.parquet --entity 'robot/**' --wide --index frame --application-id picker
    """
    ctx = click.get_current_context()
    if not wide:
        for name in ("index", "sample"):
            if ctx.params[name] is not None:
                raise click.UsageError(f"--{name} applies to --wide exports only")
        if ctx.get_parameter_source("fill") is click.core.ParameterSource.COMMANDLINE:
            raise click.UsageError("--fill applies to --wide exports only")
    rate = _sample(sample)
    paths, many = _inputs(files, force_many=bool(application_id))
    if many:
        with _file_warnings():
            _export_many(
                paths, out, patterns, timeline, start, end, wide, index, fill, rate, force, recording, application_id
            )
        return
    file = paths[0]
    rec = _open(file, recording)
    pats = _patterns(patterns)
    _matched(rec, pats)
    options = _export_options(rec, timeline, start, end, wide, index, fill, rate, force)
    try:
        with usage_errors(ValueError):
            plan = plan_export(rec, out, entities=pats, **options)
            with progress_bar(f"exporting {human_size(plan.total_bytes)}", plan.total_bytes) as update:
                result = plan.run(update)
    except OutputExistsError as exc:
        fail(f"{exc.path} exists (pass --force to overwrite it)")
    _report_export(result, plan.out, plan.directory)


def _export_options(
    source: Recording | RecordingSet,
    timeline: str | None,
    start: str | None,
    end: str | None,
    wide: bool,
    index: str | None,
    fill: str,
    rate: float | int | None,
    force: bool,
) -> dict[str, Any]:
    """Check the range options of an export against its recordings; the planner's arguments but entities."""
    if wide:
        if index is None and timeline is None:
            if isinstance(source, RecordingSet):
                known, has = ", ".join(source.timeline_kinds()), "the recordings have"
            else:
                known, has = ", ".join(source.timelines().get_column("name").to_list()), "the recording has"
            raise click.UsageError(f"--wide needs --index TIMELINE; {has}: {known or 'none'}")
        if index is not None and timeline is not None and index != timeline:
            raise click.UsageError(f"--timeline {timeline} differs from --index {index}; give only --index")
        _check_bounds(source, index or timeline, start, end, "--index")
    else:
        _check_bounds(source, timeline, start, end, "--timeline")
    return {
        "timeline": None if wide else timeline,
        "start": start,
        "end": end,
        "wide": wide,
        "index": (index or timeline) if wide else None,
        "fill": None if fill == "none" else fill,
        "sample": rate,
        "overwrite": force,
    }


def _report_export(result: ExportResult, out: Path, directory: bool, source: str = "") -> None:
    """The files an export wrote (``source``: what the rows are of, when there are many recordings)."""
    rows = _plural(result.rows, "row") + (f" of {source}" if source else "")
    if directory:
        click.echo(f"wrote {rows} to {_plural(len(result.files), 'file')} in {out}")
        for path, n in result.files.items():
            click.echo(f"  {path.name}  {_plural(n, 'row')}")
        if result.skipped:
            click.echo(f"no rows in the range (no file): {', '.join(result.skipped)}")
    else:
        click.echo(f"wrote {rows} to {out}")


def _export_many(
    paths: Sequence[Path],
    out: str,
    patterns: Sequence[str],
    timeline: str | None,
    start: str | None,
    end: str | None,
    wide: bool,
    index: str | None,
    fill: str,
    rate: float | int | None,
    force: bool,
    recording: str | None,
    application_id: Sequence[str],
) -> None:
    rs = _open_many(paths, recording, application_id)
    pats = _patterns(patterns)
    with usage_errors(ValueError):
        rs.candidates(pats)
    options = _export_options(rs, timeline, start, end, wide, index, fill, rate, force)
    try:
        with usage_errors(ValueError):
            plan = plan_export_many(rs, out, entities=pats, **options)
            label = f"exporting {human_size(plan.total_bytes)} from {_plural(len(plan.plans), 'recording')}"
            with progress_bar(label, plan.total_bytes) as update:
                result = plan.run(update)
    except OutputExistsError as exc:
        fail(f"{exc.path} exists (pass --force to overwrite it)")
    finally:
        rs.close()
    _report_export(result, plan.out, plan.directory, _plural(len(plan.plans), "recording"))


# --- sql -------------------------------------------------------------------------------------------
def chunk_table(rec: Recording) -> pl.DataFrame:
    """The index as a table: one row per chunk, with per-timeline ``<name>_min``/``<name>_max``."""
    timelines = rec.timelines()
    kinds = dict(zip(timelines.get_column("name").to_list(), timelines.get_column("kind").to_list(), strict=True))
    data: dict[str, list[Any]] = {
        k: []
        for k in (
            "entity",
            "kind",
            "rows",
            "timeless",
            "record_offset",
            "record_size",
            "row_id_min",
            "row_id_max",
            "codec",
        )
    }
    for name in kinds:
        data[f"{name}_min"] = []
        data[f"{name}_max"] = []
    for c in rec.index:
        data["entity"].append(c.entity)
        data["kind"].append(c.kind)
        data["rows"].append(c.rows)
        data["timeless"].append(c.timeless)
        data["record_offset"].append(c.record_offset)
        data["record_size"].append(c.record_size)
        data["row_id_min"].append(c.row_id_min)
        data["row_id_max"].append(c.row_id_max)
        data["codec"].append(c.codec)
        for name in kinds:
            r = c.timelines.get(name)
            data[f"{name}_min"].append(r.min if r is not None else None)
            data[f"{name}_max"].append(r.max if r is not None else None)
    schema: dict[str, pl.DataType] = {
        "entity": pl.String(),
        "kind": pl.String(),
        "rows": pl.Int64(),
        "timeless": pl.Boolean(),
        "record_offset": pl.Int64(),
        "record_size": pl.Int64(),
        "row_id_min": pl.UInt64(),
        "row_id_max": pl.UInt64(),
        "codec": pl.String(),
    }
    for name in kinds:
        schema[f"{name}_min"] = schema[f"{name}_max"] = pl.Int64()
    frame = pl.DataFrame(data, schema=schema)
    times = [n for n, k in kinds.items() if k == TimelineKind.TIME.value]
    casts = [pl.col(f"{n}_{end}").cast(pl.Datetime("ns", "UTC")) for n in times for end in ("min", "max")]
    return frame.with_columns(casts) if casts else frame


def _mentioned(entity: str, query: str) -> bool:
    """Whether a query may name an entity's table (a cheap, generous test)."""
    q = query.lower()
    e = entity.lower()
    return e in q or e.replace('"', '""') in q


def _sql_name(table: str) -> str:
    return table if table == "chunks" else '"' + table.replace('"', '""') + '"'


def _query_error(exc: Exception, tables: Sequence[str]) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    first = lines[0] if lines else type(exc).__name__
    message = f"bad SQL query: {first}"
    if "relation" in first and "not found" in first:
        shown = ", ".join(_sql_name(t) for t in tables[:20]) + (", ..." if len(tables) > 20 else "")
        message += f'; tables: {shown} (quote entity tables: SELECT * FROM "world/points")'
    return message


@main.command("sql", context_settings=_CONTEXT)
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.argument("query")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    help="How to print the result (default: table). Not with -o.",
)
@click.option("-o", "--output", "out", metavar="OUT", help=f"Write the result to OUT ({_FORMAT_LIST}).")
@click.option("--force", is_flag=True, help="Overwrite OUT if it exists.")
@_recording_option
@_application_option
def sql(
    files: tuple[str, ...],
    query: str,
    fmt: str | None,
    out: str | None,
    force: bool,
    recording: str | None,
    application_id: tuple[str, ...],
) -> None:
    """Run a Polars SQL query over the recording (or over many, as one dataset).

    Each entity is a table named by its path, which must be quoted in SQL because it
    holds '/' (inside the quotes, write a '"' of the path as '""'). Its columns are
    those of 'rrquery schema': entity, row_id, the timelines (times as Datetime(ns,
    UTC)), the components. Tables are read lazily: only the entities a query names are
    read, and filters on timelines skip chunks outside them.

    The table 'chunks' is the file's index, one row per chunk: entity, kind, rows,
    timeless, record_offset, record_size, row_id_min, row_id_max, codec, and
    <timeline>_min / <timeline>_max for every timeline (e.g. frame_min, frame_max).
    (An entity named 'chunks' is shadowed by it.)

    --format csv writes list and struct columns as JSON text; csv and json refuse
    binary columns (images): write them with -o out.parquet.

    Several FILEs, directories (every .rrd file below) or quoted globs ('runs/**/*.rrd')
    are queried as one dataset: every table has application_id and recording_id columns
    first (filters on them skip the other recordings unread), 'chunks' has the path too,
    and the table 'recordings' lists the recordings (the columns of 'rrquery catalog').
    Files or records that cannot be read are left out with a warning.

    \b
    Example:
      rrquery sql run.rrd 'SELECT frame, scalar FROM "plot/speed" WHERE frame < 100'
      rrquery sql run.rrd 'SELECT entity, sum(rows) AS rows FROM chunks GROUP BY entity'
      rrquery sql run.rrd 'SELECT * FROM "world/points"' -o points.parquet
      rrquery sql 'runs/**/*.rrd' 'SELECT recording_id, max(scalar) AS top FROM "robot/speed" GROUP BY 1'
      rrquery sql runs/ 'SELECT path, frame_max FROM recordings WHERE application_id = \'picker\''
    """
    if out is not None and fmt is not None:
        raise click.UsageError("--format applies to printed results; -o takes the format from OUT's suffix")
    paths, many = _inputs(files, force_many=bool(application_id))
    if many:
        with _file_warnings():
            result = _sql_many(paths, query, recording, application_id)
        _sql_output(result, fmt, out, force)
        return
    file = paths[0]
    rec = _open(file, recording)
    entities = sorted({c.entity for c in rec.index})
    context = pl.SQLContext(eager=False)
    with warnings.catch_warnings():
        # The file's damage was reported once, when it was opened.
        warnings.simplefilter("ignore", TruncatedRecordingWarning)
        for entity in entities:
            if _mentioned(entity, query) and entity != "chunks":
                context.register(entity, rrquery.scan(file, entity, recording=_recording_arg(recording)))
    context.register("chunks", chunk_table(rec).lazy())
    try:
        result = context.execute(query).collect()
    except pl.exceptions.PolarsError as exc:
        fail(_query_error(exc, ["chunks", *entities]))
    _sql_output(result, fmt, out, force)


def _sql_many(paths: Sequence[Path], query: str, recording: str | None, application_id: Sequence[str]) -> pl.DataFrame:
    rs = _open_many(paths, recording, application_id)
    entities = rs.entity_names()
    special = ("chunks", "recordings")
    context = pl.SQLContext(eager=False)
    for entity in entities:
        if _mentioned(entity, query) and entity not in special:
            context.register(entity, rrquery.scan(rs, entity))
    if _mentioned("chunks", query):
        context.register("chunks", _many_chunk_table(rs).lazy())
    context.register("recordings", rs.recordings().lazy())
    try:
        return context.execute(query).collect()
    except pl.exceptions.PolarsError as exc:
        fail(_query_error(exc, [*special, *entities]))
    finally:
        rs.close()


def _many_chunk_table(rs: RecordingSet) -> pl.DataFrame:
    """The index of every recording: ``path``, the ids, then the columns of :func:`chunk_table`."""
    frames = []
    for m in rs.members:
        try:
            with rs.recording(m) as rec:
                table = chunk_table(rec)
        except (rrquery_errors.RrdError, OSError) as exc:
            rs._failed(f"left out {m.label}", exc, m.path)
            continue
        s = m.summary
        frames.append(
            table.select(
                pl.lit(s.path).alias("path"),
                pl.lit(s.application_id).alias(ID_COLUMNS[0]),
                pl.lit(s.recording_id).alias(ID_COLUMNS[1]),
                pl.all(),
            )
        )
    if not frames:
        return pl.DataFrame(schema={"path": pl.String, ID_COLUMNS[0]: pl.String, ID_COLUMNS[1]: pl.String})
    return pl.concat(frames, how="diagonal_relaxed")


def _write_output(frame: pl.DataFrame, out: str, force: bool) -> None:
    """Write a table to the file -o names (its suffix picks the format) and say so."""
    try:
        with usage_errors(ExportError):
            write_frame(frame, out, overwrite=force)
    except OutputExistsError as exc:
        fail(f"{exc.path} exists (pass --force to overwrite it)")
    click.echo(f"wrote {_plural(frame.height, 'row')} to {out}")


def _sql_output(result: pl.DataFrame, fmt: str | None, out: str | None, force: bool) -> None:
    if out is not None:
        _write_output(result, out, force)
        return
    fmt = fmt or "table"
    if fmt == "table":
        with _table_config(100):
            click.echo(str(_short_cells(result)))
        return
    with usage_errors(ExportError):
        check_text_format(
            dict(result.schema),
            "csv" if fmt == "csv" else "ndjson",
            advice="write it with -o OUT.parquet (or .arrow), or leave the column out of the query",
        )
    if fmt == "csv":
        click.echo(encode_nested(result).write_csv(), nl=False)
    else:
        click.echo(result.write_json())


# --- catalog -------------------------------------------------------------------------------------------
def _catalog_cell(kind: str, lo: int | None, hi: int | None) -> str:
    if lo is None or hi is None:
        return "-"
    if kind == TimelineKind.SEQUENCE.value:
        return f"{lo}..{hi}"
    return _duration(hi - lo)


@main.command("catalog", context_settings=_CONTEXT)
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--pattern", default="**/*.rrd", show_default=True, metavar="GLOB", help="Which files under DIRECTORY.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    help="How to print the catalog (default: table). Not with -o.",
)
@click.option("-o", "--output", "out", metavar="OUT", help=f"Write the catalog to OUT ({_FORMAT_LIST}).")
@click.option("--force", is_flag=True, help="Overwrite OUT if it exists.")
@click.option("--refresh", is_flag=True, help="Read every file's index again, ignoring the cache.")
@click.option("--no-cache", "no_cache", is_flag=True, help=f"Neither read nor write {CACHE_NAME}.")
def catalog(
    directory: Path, pattern: str, fmt: str | None, out: str | None, force: bool, refresh: bool, no_cache: bool
) -> None:
    """List the recordings under a directory: ids, start, span of each timeline, entities, size.

    Reads only each file's index (its footer), never a chunk. The result is cached in
    DIRECTORY/.rrcatalog.json: the next run reads only the files that are new or whose
    size, modification time or inode changed (without write access to DIRECTORY, nothing
    is cached). Multi-file queries (export, sql, and rrquery.open_many in Python) use a
    fresh cache to skip files outside their filters without opening them.

    The table shows, per timeline, the first and last value of a sequence (0..999) or
    the duration of a time timeline. A damaged file is listed with its status
    (truncated, corrupt: its sound prefix is described) and a file that is no recording
    as unreadable. --format csv/json and -o give every column: path, application_id,
    recording_id, recording, start_time, <timeline>_min/_max/_duration, entities,
    chunks, rows, size, modified, status, problem.

    \b
    Example:
      rrquery catalog runs/
      rrquery catalog runs/ --pattern '2026-*/*.rrd' --format csv > runs.csv
      rrquery catalog runs/ -o catalog.parquet
    """
    if out is not None and fmt is not None:
        raise click.UsageError("--format applies to printed results; -o takes the format from OUT's suffix")
    with contextlib.ExitStack() as stack:
        state: dict[str, Any] = {}

        def progress(done: int, total: int) -> None:
            if "update" not in state:
                # The number of files to read is known once the cache has been checked.
                state["update"] = stack.enter_context(progress_bar(f"reading {_plural(total, 'index')}", total))
            update = state["update"]
            if update is not None:
                update(done, total)

        found = scan_directory(directory, pattern=pattern, cache=not no_cache, refresh=refresh, progress=progress)
    frame = catalog_frame(found.summaries, found.problems)
    if fmt == "csv" or (out is not None and Path(out).suffix.lower() == ".csv"):
        # CSV has no durations: ISO 8601 text (PT0.29S), as JSON writes them.
        frame = frame.with_columns(pl.col(pl.Duration).dt.to_string("iso"))
    if out is not None:
        _write_output(frame, out, force)
        return
    fmt = fmt or "table"
    if fmt == "csv":
        click.echo(encode_nested(frame).write_csv(), nl=False)
        return
    if fmt == "json":
        click.echo(frame.write_json())
        return
    if frame.height == 0:
        click.echo(f"(no file matches {pattern!r} under {directory})")
        return
    kinds: dict[str, str] = {}
    for summary in found.summaries:
        for name, span in summary.timelines.items():
            kinds.setdefault(name, span.kind)
    names = [n for n in sorted(kinds) if n != "log_time"] + (["log_time"] if "log_time" in kinds else [])
    damaged = any(s.status != "ok" for s in found.summaries) or bool(found.problems)
    headers = ["path", "application", "recording", "start", *names, "entities", "size"]
    if damaged:
        headers.append("status")
    rows = []
    for s in sorted(found.summaries, key=lambda s: (s.path, s.index)):
        cells = [str(Path(s.path).relative_to(directory)), s.application_id, s.recording_id]
        cells.append(_time_text(s.start_time_ns))
        for name in names:
            got = s.timelines.get(name)
            cells.append("-" if got is None else _catalog_cell(got.kind, got.min, got.max))
        cells += [str(len(s.entities)), human_size(s.size)]
        if damaged:
            cells.append(s.status)
        rows.append(cells)
    for p in found.problems:
        cells = [
            str(Path(p.path).relative_to(directory)),
            "-",
            "-",
            "-",
            *["-" for _ in names],
            "-",
            human_size(p.size),
        ]
        rows.append([*cells, "unreadable"])
    size_col = 4 + len(names) + 1
    _print_text_table(headers, rows, right=frozenset({size_col, size_col - 1}))
    files = len({s.path for s in found.summaries}) + len(found.problems)
    total = sum({s.path: s.size for s in found.summaries}.values()) + sum(p.size for p in found.problems)
    cached = "" if no_cache else f"; {found.files - found.read} from the cache"
    click.echo(
        f"{_plural(len(found.summaries), 'recording')} in {_plural(files, 'file')}, {human_size(total)} "
        f"({found.read} indexes read{cached})"
    )
    for p in found.problems:
        click.echo(f"rrquery: warning: {' '.join(p.error.split())}", err=True)
    for s in found.summaries:
        if s.problem:
            click.echo(f"rrquery: warning: {s.path}: {' '.join(s.problem.split())}", err=True)


if __name__ == "__main__":  # pragma: no cover
    main()
