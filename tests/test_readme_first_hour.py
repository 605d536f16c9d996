"""The first hour, as the README tells it: its service-manager commands, taken from the README
and run literally through a shell (the environment `make demo` made is on the PATH, as after
`source .venv/bin/activate`) in an empty folder. The one step the README leaves to the person,
filling in the template, is done as they would: synthetic rows typed under its headers."""

from __future__ import annotations

import glob
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from evaltool.synthetic import generate
from tests.test_init_from import managers_export

README = Path(__file__).resolve().parents[1] / "README.md"


def manager_commands() -> list[str]:
    """The commands of the README's quarterly run, in order: inline `evaltool ...` spans and
    fenced sh blocks (continuation lines joined)."""
    text = README.read_text(encoding="utf-8")
    start = text.index("## For service managers: the quarterly run")
    section = text[start : text.index("### Commands", start)]
    commands = []
    for block, inline in re.findall(r"```sh\n(.*?)```|`(evaltool [^`]+)`", section, re.S):
        if inline:
            commands.append(inline)
        else:
            joined = re.sub(r"\\\n\s*", "", block)
            commands += [line.strip() for line in joined.splitlines() if line.strip()]
    return commands


def fill_template(path: Path) -> None:
    """Type 40 synthetic clients' rows into the template under its own headers (data up to
    the end of 2025, so that the README's quarter, 2025-Q3, is over and covered)."""
    tables = generate(40, extract="2025-12-31")
    wb = openpyxl.load_workbook(path)
    for name, frame in tables.items():
        if name not in wb.sheetnames:
            continue
        ws = wb[name]
        headers = [c.value for c in ws[1]]
        for r, row in enumerate(frame.itertuples(index=False), start=2):
            values = dict(zip(frame.columns, row, strict=True))
            for j, header in enumerate(headers, start=1):
                value = values.get(header)
                if value is None or pd.isna(value):
                    continue
                if isinstance(value, pd.Timestamp):
                    value = value.to_pydatetime()
                elif hasattr(value, "item"):
                    value = value.item()
                ws.cell(row=r, column=j, value=value)
    wb.save(path)


def run_as_written(command: str, folder: Path, env: dict) -> subprocess.CompletedProcess:
    args = shlex.split(command)
    args = [a for arg in args for a in (sorted(glob.glob(arg, root_dir=folder)) or [arg])]
    done = subprocess.run(args, cwd=folder, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (command, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    return done


def test_the_readme_commands_run_as_written(tmp_path):
    commands = manager_commands()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("EVALTOOL_RECORD", None)  # the record goes beside the settings, as the README says
    [from_export] = [c for c in commands if "--from" in c]  # the other way in: its own folder
    commands.remove(from_export)
    verbs = [c.split()[1] for c in commands]
    assert verbs[:3] == ["init", "validate", "score"] and "summary" in verbs and "due" in verbs
    own = tmp_path / "own-export"
    own.mkdir()
    managers_export(own).rename(own / shlex.split(from_export)[-1])  # 25 clients, renamed
    done = run_as_written(from_export, own, env)
    assert "OK: " in done.stdout, done.stdout  # the hand-made export, valid with the settings
    for command in commands:
        if command.split()[1] == "validate":
            fill_template(tmp_path / "my-service" / "service-data.xlsx")
        run_as_written(command, tmp_path, env)
    assert (tmp_path / "returns" / "2025-Q3.xlsx").exists()  # its folder made on the way
    assert (tmp_path / "returns" / "2025-Q3-board.html").exists()
    assert (tmp_path / "due.xlsx").exists()
    assert (tmp_path / "my-service" / "evaltool-returns.sqlite").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="make is for Unix-like machines")
def test_make_demo_ends_by_saying_what_to_run_next():
    text = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    assert 'echo "Next: source $(VENV)/bin/activate, then evaltool init my-service' in text


def test_the_set_up_without_make_is_what_ci_runs():
    """Issue 25: local-authority laptops are usually Windows without make. The README's lines
    are run as written by CI (.ci/run calls .ci/without_make.py, which reads them here)."""
    import importlib.util

    root = Path(__file__).resolve().parents[1]
    assert "python3 .ci/without_make.py" in (root / ".ci" / "run").read_text()
    spec = importlib.util.spec_from_file_location("without_make", root / ".ci" / "without_make.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    lines = module.commands()
    assert lines[0] == "python -m venv .venv"
    assert lines[1] == ".venv/bin/python -m pip install ."
    assert lines[2].startswith(".venv/bin/evaltool score examples/data/example-service.xlsx")
    assert "make" not in " ".join(lines)
