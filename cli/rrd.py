"""``rrd``: inspect, check, repair, re-chunk and merge .rrd files.

Exit codes: 0 success; 1 the file is corrupt, or nothing could be recovered; 2 bad
arguments (missing or non-.rrd file, output exists without ``--force``, bad option);
3 the file is truncated, or ``recover`` had to leave something out.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from rrformat.chunk import ChunkInfo
from rrformat.entity_path import EntityPathPattern
from rrformat.errors import RrdError
from rrformat.reader import Damage, RrdReader
from rrformat.tools import (
    chunk_json,
    columns_json,
    compact,
    damage_json,
    describe,
    dumps,
    merge,
    recover,
    verify,
)
from rrformat.writer import DEFAULT_CHUNK_BYTES

from ._common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_TRUNCATED,
    ErrorHandlingGroup,
    ParsedValue,
    RrdFile,
    check_distinct,
    check_output,
    human_size,
    parse_size,
    progress_bar,
)

__all__ = ["main"]

_FILE = RrdFile()
_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _damage_code(damage: Damage | None) -> int:
    if damage is None:
        return EXIT_OK
    return EXIT_TRUNCATED if damage.kind == "truncated" else EXIT_FAILED


@click.group("rrd", cls=ErrorHandlingGroup, context_settings=_CONTEXT)
@click.version_option(package_name="rrkit", prog_name="rrd")
def main() -> None:
    """Inspect, check, repair, re-chunk and merge .rrd recordings.

    Exit codes: 0 success; 1 corrupt file or nothing recoverable; 2 bad arguments
    (missing or non-.rrd file, existing output without --force, bad option value);
    3 truncated file, or something could not be recovered.

    \b
    Example:
      rrd info run.rrd
      rrd verify run.rrd || rrd recover run.rrd -o fixed.rrd
    """


# --- info ------------------------------------------------------------------------------
@main.command(context_settings=_CONTEXT)
@click.argument("file", type=_FILE)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
def info(file: Path, as_json: bool) -> int:
    """Summarise a file: its recordings, timelines, entities, sizes and damage.

    Reads only the index and record headers, so it is fast on large files. Exits 3 if
    the file is truncated, 1 if a record header is corrupt.

    \b
    Example:
      rrd info run.rrd
      rrd info run.rrd --json | jq '.recordings[0].timelines'
    """
    d = describe(file)
    if as_json:
        click.echo(json.dumps(d, indent=2, ensure_ascii=False))
    else:
        _print_info(d)
    dmg = d["damage"]
    return EXIT_OK if dmg is None else (EXIT_TRUNCATED if dmg["kind"] == "truncated" else EXIT_FAILED)


def _print_info(d: dict[str, Any]) -> None:
    echo = click.echo
    by_kind = ", ".join(f"{n} {k}" for k, n in d["records_by_kind"].items())
    echo(f"file:         {d['path']} ({human_size(d['file_size'])}, format {d['format_version']})")
    echo(f"written by:   {d['writer'] or 'unknown'}")
    echo(f"index:        read from the {'footer' if d['opened_via'] == 'footer' else 'records (no usable footer)'}")
    echo(f"records:      {d['records']} ({by_kind})")
    echo(f"chunks:       {d['chunks']} in {d['chunk_records']} chunk records, {d['rows']} rows")
    ratio = d["compression_ratio"]
    stored, raw = human_size(d["stored_bytes"]), human_size(d["raw_bytes"])
    echo(f"data:         {stored} stored, {raw} uncompressed" + (f" (ratio {ratio:.2f})" if ratio else ""))
    dmg = d["damage"]
    if dmg is None:
        echo("damage:       none")
    else:
        where = f"{dmg['kind']} at byte {dmg['offset']} ({dmg['lost_bytes']} bytes unreadable)"
        echo(f"damage:       {where}: {dmg['reason']}")
    for rec in d["recordings"]:
        echo("")
        echo(f"recording {rec['index']}: {rec['application_id']} / {rec['recording_id']}")
        echo(f"  started:    {rec['start_time']}")
        echo(f"  data:       {rec['chunks']} chunks, {rec['rows']} rows")
        if rec["timelines"]:
            echo("  timelines:")
            width = max(len(n) for n in rec["timelines"])
            for name, t in rec["timelines"].items():
                if t["min"] is None:
                    span = "(no values)"
                elif t["kind"] == "time":
                    span = f"{t['min_text']} .. {t['max_text']}  ({t['duration_text']})"
                else:
                    span = f"{t['min']} .. {t['max']}"
                echo(f"    {name:<{width}}  {t['kind']:<8}  {span}")
        if rec["entities"]:
            echo("  entities:")
            width = max(len(e["entity"]) for e in rec["entities"])
            for e in rec["entities"]:
                extra = ", timeless" if e["timeless"] else ""
                counts = f"{_plural(e['rows'], 'row')} in {_plural(e['chunks'], 'chunk')}"
                echo(f"    {e['entity']:<{width}}  {e['kind']:<18} {counts}{extra}")


# --- print -----------------------------------------------------------------------------
@main.command("print", context_settings=_CONTEXT)
@click.argument("file", type=_FILE)
@click.option("--entity", "pattern", metavar="PATTERN", help="Only chunks whose entity matches this glob (world/**).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per chunk (the test-vector format).")
@click.option("--data", is_flag=True, help="Also print each chunk's columns (binary values as base64).")
def print_(file: Path, pattern: str | None, as_json: bool, data: bool) -> int:
    """List the chunks of a file in file order, one line (or JSON object) per chunk.

    Each line gives the chunk's record offset and size, recording, entity, data kind,
    rows, row ids, timeline ranges, columns and codec. A damaged file ends with a line
    (or a {"damage": ...} object) describing the damage, and exits 3 if truncated or 1
    if corrupt. PATTERN is an entity path glob: '*' is one part, '**' any number.

    \b
    Example:
      rrd print run.rrd --entity 'world/**'
      rrd print run.rrd --json --data > run.jsonl
    """
    try:
        selector = EntityPathPattern.parse(pattern) if pattern is not None else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--entity") from None
    with RrdReader(file) as reader:
        damage = reader.damage
        for info in reader.chunks:
            if selector is not None and not selector.matches(info.entity):
                continue
            try:
                line = _chunk_line(reader, info, as_json=as_json, data=data)
            except RrdError as exc:
                # A body or schema that fails its checks: what follows cannot be trusted either.
                damage = Damage("corrupt", exc.offset or info.record_offset, info.record_size, exc.reason)
                break
            click.echo(line)
    if damage is not None:
        if as_json:
            click.echo(dumps({"damage": damage_json(damage)}))
        else:
            click.echo(f"damage: {damage.describe()}")
    return _damage_code(damage)


def _chunk_line(reader: RrdReader, info: ChunkInfo, *, as_json: bool, data: bool) -> str:
    obj = chunk_json(reader, info, data=data)
    if as_json:
        return dumps(obj)
    lo, hi = obj["row_ids"]
    times = " ".join(f"{n}={t['min']}..{t['max']}" for n, t in obj["timelines"].items()) or "timeless"
    cols = ",".join(n for n in obj["columns"] if n != "row_id" and n not in obj["timelines"])
    line = (
        f"@{obj['offset']} ({obj['size']} B) rec={obj['recording']} {obj['entity']} [{obj['kind']}] "
        f"rows={obj['rows']} row_ids={lo}..{hi} {times} cols={cols} {obj['codec']}"
    )
    if data:
        batch = reader.read_chunk(info).batch
        for name, values in columns_json(batch).items():
            text = dumps(values)
            line += f"\n    {name}: {text if len(text) <= 200 else text[:197] + '...'}"
    return line


# --- verify ----------------------------------------------------------------------------
@main.command("verify", context_settings=_CONTEXT)
@click.argument("file", type=_FILE)
def verify_(file: Path) -> int:
    """Check every record of a file: checksums, decoding, and index against data.

    Reads and decodes every chunk, so a file that verifies can be read in full. Prints
    a summary and one line per problem, each naming its byte offset. Exits 0 if the
    file is whole, 3 if it is truncated but sound before the cut (a writer that did not
    close it), 1 if anything is corrupt.

    \b
    Example:
      rrd verify run.rrd && echo whole
    """
    with progress_bar(f"verifying {file.name}", file.stat().st_size) as progress:
        rep = verify(file, progress=progress)
    summary = {
        "ok": "ok, the file is whole",
        "truncated": "truncated, the file ends early; everything before the cut is sound",
        "corrupt": "corrupt",
    }[rep.status]
    click.echo(f"{file}: {summary}")
    click.echo(
        f"  {rep.records} records, {rep.chunks_ok} chunks sound"
        + (f", {rep.chunks_bad} damaged" if rep.chunks_bad else "")
        + (", closed with a footer" if rep.has_footer else ", no footer")
    )
    for p in rep.problems:
        click.echo(f"  {p}")
    if rep.status != "ok" and rep.chunks_ok:
        click.echo(f"  run 'rrd recover {file} -o FIXED.rrd' to copy out every sound chunk")
    return {"ok": EXIT_OK, "truncated": EXIT_TRUNCATED, "corrupt": EXIT_FAILED}[rep.status]


# --- recover ---------------------------------------------------------------------------
_OUT = click.option(
    "-o", "--output", "out", required=True, type=click.Path(path_type=Path), help="The .rrd file to write."
)
_FORCE = click.option("--force", "-f", is_flag=True, help="Overwrite the output file if it exists.")


@main.command("recover", context_settings=_CONTEXT)
@click.argument("src", metavar="IN", type=_FILE)
@_OUT
@_FORCE
def recover_(src: Path, out: Path, force: bool) -> int:
    """Copy every sound chunk of a damaged file into a new, whole file.

    Walks the records, skipping past damaged ones to the next intact record, and
    keeps each chunk whose record is wholly sound, with its recording, entity, row ids
    and timelines unchanged. IN is never modified. Exits 0 if nothing was lost, 3 if
    something was, 1 if nothing at all could be recovered (then OUT is not written).

    \b
    Example:
      rrd recover crashed.rrd -o fixed.rrd
    """
    check_output(out, force=force, inputs=[src])
    with progress_bar(f"recovering {src.name}", src.stat().st_size) as progress:
        rep = recover(src, out, overwrite=force, progress=progress)
    for p in rep.problems:
        click.echo(f"  {p}", err=True)
    lost = f"{rep.chunks_lost}" if rep.chunks_lost_exact else f"at least {rep.chunks_lost}"
    if rep.status == "nothing_recoverable":
        click.echo(f"{src}: nothing recoverable ({human_size(rep.bytes_lost)} unreadable); {out} not written")
        return EXIT_FAILED
    click.echo(f"{out}: {rep.chunks_recovered} chunks ({rep.rows_recovered} rows) recovered from {src}")
    if rep.status == "some_lost":
        click.echo(
            f"  lost: {lost} chunk{'' if rep.chunks_lost == 1 else 's'}, {human_size(rep.bytes_lost)} unreadable"
        )
        return EXIT_TRUNCATED
    click.echo("  nothing lost")
    return EXIT_OK


# --- compact ---------------------------------------------------------------------------
@main.command("compact", context_settings=_CONTEXT)
@click.argument("src", metavar="IN", type=_FILE)
@_OUT
@click.option(
    "--chunk-size",
    "chunk_size",
    type=ParsedValue("size", parse_size),
    default=f"{DEFAULT_CHUNK_BYTES >> 20}MiB",
    show_default=True,
    metavar="SIZE",
    help="Target uncompressed size of a chunk record: 4MiB, 512KB, 1000000.",
)
@click.option(
    "--compression",
    type=click.Choice(["zstd", "none"]),
    default="zstd",
    show_default=True,
    help="'none' stores bodies uncompressed so they can be memory-mapped.",
)
@_FORCE
def compact_(src: Path, out: Path, chunk_size: int, compression: str, force: bool) -> int:
    """Rewrite a file with fewer, larger chunks (or smaller ones), and chosen compression.

    Concatenates the rows of each entity in row-id order and cuts them into chunks of
    about SIZE uncompressed bytes, packing small leftovers together. Values, row ids
    and timelines are unchanged. A damaged input is refused: recover it first.

    \b
    Example:
      rrd compact run.rrd -o run-hot.rrd --chunk-size 4MiB --compression none
    """
    check_output(out, force=force, inputs=[src])
    with progress_bar(f"compacting {src.name}", src.stat().st_size) as progress:
        rep = compact(
            src,
            out,
            chunk_bytes=chunk_size,
            compression="none" if compression == "none" else "zstd",
            overwrite=force,
            progress=progress,
        )
    click.echo(
        f"{out}: {rep.chunks_out} chunks in {rep.records_out} records, {human_size(rep.size_out)} "
        f"(from {rep.chunks_in} chunks in {rep.records_in} records, {human_size(rep.size_in)})"
    )
    return EXIT_OK


# --- merge -----------------------------------------------------------------------------
@main.command("merge", context_settings=_CONTEXT)
@click.argument("srcs", metavar="IN...", nargs=-1, required=True, type=_FILE)
@_OUT
@click.option("--as-one", is_flag=True, help="Put everything into one recording (the first input's ids).")
@_FORCE
def merge_(srcs: tuple[Path, ...], out: Path, as_one: bool, force: bool) -> int:
    """Merge several files into one.

    Recordings with the same recording id (the parts of one run) become one recording;
    different runs stay separate recordings of the output. With --as-one everything
    goes into one recording. Row ids that would collide are shifted so that they stay
    unique. Damaged inputs are refused: recover them first.

    \b
    Example:
      rrd merge monday.rrd tuesday.rrd -o week.rrd
    """
    check_output(out, force=force, inputs=list(srcs))
    check_distinct(srcs, param_hint="IN...")
    total = sum(s.stat().st_size for s in srcs)
    with progress_bar(f"merging {len(srcs)} files", total) as progress:
        rep = merge(list(srcs), out, as_one=as_one, overwrite=force, progress=progress)
    click.echo(f"{out}: {rep.chunks} chunks, {rep.rows} rows, {len(rep.recordings)} recording(s)")
    for rec in rep.recordings:
        click.echo(f"  recording {rec.index}: {rec.application_id} / {rec.recording_id}")
    for s in rep.shifts:
        click.echo(f"  row ids of {srcs[s.input]} (recording {s.recording}) shifted by {s.offset} to stay unique")
    return EXIT_OK


if __name__ == "__main__":
    main()
