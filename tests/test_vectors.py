"""Conformance: every vector in spec/vectors reads exactly as its expected output says.

The expected files are produced by ``spec/vectors/generate.py`` and checked in; this test
never regenerates them, so any change in what the reader returns fails here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.rrd import main

VECTORS = Path(__file__).resolve().parent.parent / "spec" / "vectors"
NAMES = sorted(p.name.removesuffix(".rrd") for p in VECTORS.glob("*.rrd"))


def test_vectors_exist() -> None:
    assert len(NAMES) >= 12
    for name in NAMES:
        assert (VECTORS / f"{name}.expected.jsonl").is_file(), name


@pytest.mark.parametrize("name", NAMES)
def test_vector_reads_as_expected(name: str) -> None:
    expected = (VECTORS / f"{name}.expected.jsonl").read_text().splitlines()
    result = CliRunner().invoke(main, ["print", "--json", "--data", str(VECTORS / f"{name}.rrd")])
    exit_line = json.loads(expected[-1])
    assert result.exit_code == exit_line["exit"], result.output
    if exit_line["exit"] in (0, 1, 3):
        got = [json.loads(line) for line in result.stdout.splitlines()]
        want = [json.loads(line) for line in expected[:-1]]
        assert got == want


def test_vectors_cover_every_component_and_kind() -> None:
    from rrformat.components import COMPONENTS, DATA_KINDS

    rows = [json.loads(line) for line in (VECTORS / "every_component.expected.jsonl").read_text().splitlines()[:-1]]
    kinds = {r["kind"] for r in rows}
    columns = {c for r in rows for c in r["columns"]}
    assert set(DATA_KINDS) <= kinds
    assert set(COMPONENTS) <= columns


def test_vectors_cover_damage_and_versions() -> None:
    def exit_code(name: str) -> int:
        return int(json.loads((VECTORS / f"{name}.expected.jsonl").read_text().splitlines()[-1])["exit"])

    assert exit_code("truncated") == 3
    assert exit_code("corrupt") == 1
    assert exit_code("newer_major") == 2
    assert exit_code("unknown_record") == 0
