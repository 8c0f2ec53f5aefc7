"""What the README shows works: its Python runs, its commands and options exist, its pictures are there.

Every ```python block runs, in order, in one directory (a block may read the file an
earlier one wrote); ``robot_vacuum.rrd`` is made there first, as the README tells its
reader to. Every command of a ```sh block is checked: the ``make`` target exists, the
``python`` script exists, and ``rrd``/``rrquery``/``rrview`` accept the subcommand and every
option shown (``--help`` of that subcommand lists them).
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cli.rrd import main as rrd_main
from cli.rrquery import main as rrquery_main
from cli.rrview import main as rrview_main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
COMMANDS: dict[str, click.Command] = {"rrd": rrd_main, "rrquery": rrquery_main, "rrview": rrview_main}


def blocks(language: str) -> list[str]:
    return [m.group(2) for m in re.finditer(r"```(\w*)\n(.*?)```", README, re.DOTALL) if m.group(1) == language]


def shell_commands() -> list[list[str]]:
    """The commands of the sh blocks, comments dropped and continued lines joined."""
    commands = []
    for block in blocks("sh"):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words:
                commands.append(words)
    return commands


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A directory holding robot_vacuum.rrd (small images), and the collision frame the example reported."""
    tmp = tmp_path_factory.mktemp("readme")
    script = ROOT / "examples" / "robot_vacuum.py"
    proc = subprocess.run(
        [sys.executable, str(script), "robot_vacuum.rrd", "--size", "32x24"], cwd=tmp, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    m = re.search(r"hits the wall at frame (\d+)", proc.stdout)
    assert m is not None, proc.stdout
    return tmp, int(m.group(1))


def test_quickstart_comes_first() -> None:
    first = blocks("sh")[0].splitlines()
    assert [line.split("#")[0].strip() for line in first] == ["make demo", "make test"]


def test_python_blocks_run(workdir: tuple[Path, int]) -> None:
    from rrview.live import LiveServer

    tmp, _ = workdir
    codes = blocks("python")
    assert len(codes) >= 3
    # The live-viewing block streams to a viewer on the default port: the receiving side of one.
    server = LiveServer("127.0.0.1", 9876, bound_process=False)
    try:
        run_blocks(tmp, codes)
    finally:
        server.close()
    assert [s.recordings[0].application_id for s in server.sources.values()] == ["vacuum"]
    assert all(s.stats.records > 0 for s in server.sources.values())


def run_blocks(tmp: Path, codes: list[str]) -> None:
    for i, code in enumerate(codes):
        proc = subprocess.run([sys.executable, "-c", code], cwd=tmp, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, f"README python block {i} failed:\n{code}\n{proc.stderr}"
        assert "Warning" not in proc.stderr, f"README python block {i}:\n{proc.stderr}"
        # Frame numbers the block's comments promise are in what it prints.
        comments = " ".join(line.partition("#")[2] for line in code.splitlines())
        for frame in re.findall(r"\b\d{3}\b", comments):
            assert frame in proc.stdout, f"README python block {i} says {frame}, prints:\n{proc.stdout}"


def test_the_story_names_the_collision_frame(workdir: tuple[Path, int]) -> None:
    _, collision = workdir
    times = [words[words.index("--time") + 1] for words in shell_commands() if "robot_vacuum.rrd" in words[1:2]
             and "--time" in words]  # fmt: skip
    assert times and set(times) == {str(collision)}
    assert f"prints the frame of the first collision: {collision}" in README
    assert f"**At the collision** (frame {collision})" in README


def test_shell_commands_exist() -> None:
    makefile = (ROOT / "Makefile").read_text()
    runner = CliRunner()
    helps: dict[tuple[str, str], str] = {}
    checked = 0
    for words in shell_commands():
        program, args = words[0], words[1:]
        if program == "make":
            assert re.search(rf"^{re.escape(args[0])}:", makefile, re.MULTILINE), words
        elif program == "python":
            assert (ROOT / args[0]).is_file(), words
        else:
            assert program in COMMANDS, f"the README shows an unknown command: {words}"
            command = COMMANDS[program]
            sub = args[0] if isinstance(command, click.Group) else ""
            if (program, sub) not in helps:
                result = runner.invoke(command, [sub, "--help"] if sub else ["--help"])
                assert result.exit_code == 0, f"{program} {sub} --help: {result.output}"
                helps[program, sub] = result.output
            for option in (a for a in args if a.startswith("-")):
                assert option in helps[program, sub], f"{program} {sub} has no option {option}"
        checked += 1
    assert checked >= 20


def test_pictures_and_links_exist() -> None:
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README)
    assert len(pictures) >= 3
    for picture in pictures:
        data = (ROOT / picture).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n"), picture
    for target in re.findall(r"(?<!!)\[[^\]]*\]\(([^)]+)\)", README):
        if not target.startswith(("http://", "https://", "#")):
            assert (ROOT / target).exists(), target
    assert (ROOT / "docs" / "make_images.py").is_file()
