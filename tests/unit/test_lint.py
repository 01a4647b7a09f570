"""`make lint` inside the test suite: ruff (lint + format, including the AIR3 and banned
module-level import rules), SQLFluff on the dbt SQL (.sqlfluff), yamllint on every YAML file
(.yamllint), and the one house rule of the SQL that SQLFluff cannot express."""

import re
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DBT_PROJECT = REPO / "dbt_project"


def _run(tool: str, *args: str) -> subprocess.CompletedProcess:
    exe = BIN / tool
    if not exe.exists():
        pytest.fail(f"{exe} is missing: install the dev tools with `make setup`")
    return subprocess.run([str(exe), *args], cwd=REPO, capture_output=True, text=True)


def test_ruff_check_is_clean():
    out = _run("ruff", "check", ".")
    assert out.returncode == 0, out.stdout[-3000:]


def test_ruff_format_is_clean():
    out = _run("ruff", "format", "--check", ".")
    assert out.returncode == 0, out.stdout[-3000:]


@pytest.mark.slow  # ~9 s; `make lint` runs it too
def test_sqlfluff_is_clean():
    """The models, macros and singular/generic tests; `make format` fixes most findings."""
    out = _run("sqlfluff", "lint", "dbt_project", "--processes", "0")
    assert out.returncode == 0, (out.stdout + out.stderr)[-6000:]


def test_yamllint_is_clean():
    out = _run("yamllint", "--strict", "--format", "parsable", ".")
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]


def _code_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, text without a trailing `--` comment) of the lines that hold SQL."""
    lines, in_jinja_comment = [], False
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        stripped = line.strip()
        if in_jinja_comment or stripped.startswith("{#"):
            in_jinja_comment = "#}" not in stripped
            continue
        code = re.sub(r"\s*--.*$", "", line).rstrip()
        if code.strip():
            lines.append((number, code))
    return lines


def test_multiline_select_lists_end_with_a_comma():
    """House style (STYLE rule 3 and every model): the last item of a select list written one per
    line keeps its comma before `from`; a one-line `select * from x` has none. SQLFluff's
    convention.select_trailing_comma can only require the comma everywhere or nowhere, so it is
    excluded in .sqlfluff and this checks the rule instead."""
    missing = []
    for path in sorted(DBT_PROJECT.glob("*/**/*.sql")):
        if path.relative_to(DBT_PROJECT).parts[0] in {"target", "dbt_packages", "logs"}:
            continue
        lines = _code_lines(path)
        for (_, previous), (number, line) in pairwise(lines):
            if not re.match(r"\s*from\b", line):
                continue
            if re.match(r"\s*select\b", previous):  # a one-line select: `select * from` split
                continue
            if not previous.endswith(","):
                missing.append(f"{path.relative_to(REPO)}:{number - 1}: {previous.strip()}")
    assert not missing, "add a trailing comma to the last select item:\n" + "\n".join(missing)
