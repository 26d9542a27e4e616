"""A small import kind for the import machinery's tests (never the account feed): a CSV
of skills, `code,name`, or the same as a JSON list of {"code": ..., "name": ...}.

Each row is "new" (no skill with that code), "changed" (another name) or "unchanged";
errors: a missing code or name, a code twice in the file, a name starting with "!",
and a change to a skill whose name is "LOCKED" now (so a row can turn bad between the
dry run and the apply). A file without the columns, or not UTF-8, is a FileProblem.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.imports.kinds import FileProblem, KindResult, RowOutcome, kind_of, register_kind
from portal.workforce.models import Skill

KIND = "test_skills"
COLUMNS = ("code", "name")


class SkillsKind:
    kind = KIND
    label = "Skills (test)"
    accept = (".csv", "text/csv", ".json", "application/json")
    help_text = "A CSV file with the columns code and name, one skill a line."

    def __init__(self) -> None:
        self.runs: list[bool] = []  # apply flags of each run, for the tests

    def run(self, session: so.Session, path: Path, imp, *, apply: bool, by) -> KindResult:
        self.runs.append(apply)
        result = KindResult()
        seen: set[str] = set()
        existing = dict(session.execute(sa.select(Skill.code, Skill.name)).all())
        new, changed = [], []
        for line, code, name in _rows(path, imp.filename):
            problem = _problem(code, name, seen, existing)
            if problem is not None:
                column, message = problem
                result.add(RowOutcome(line, code, "error", column, message))
                continue
            seen.add(code)
            if code not in existing:
                result.add(RowOutcome(line, code, "new", message=f"new skill {name}"))
                new.append({"code": code, "name": name})
            elif existing[code] != name:
                message = f"name {existing[code]} → {name}"
                result.add(RowOutcome(line, code, "changed", message=message))
                changed.append((code, name))
            else:
                result.add(RowOutcome(line, code, "unchanged"), keep=False)
        if apply and not result.error_count:
            if new:
                session.execute(sa.insert(Skill), new)
            for code, name in changed:
                session.execute(sa.update(Skill).where(Skill.code == code).values(name=name))
        return result


def _problem(code, name, seen, existing):
    if not code:
        return "code", "The code is missing."
    if len(code) > 40 or not code.isprintable():
        return "code", "The code is not 1 to 40 printable characters."
    if len(name) > 80 or not name.isprintable():
        return "name", "The name is not up to 80 printable characters."
    if code in seen:
        return "code", f"The code {code} is in the file twice."
    if not name:
        return "name", "The name is missing."
    if name.startswith("!"):
        return "name", f"The name {name!r} is not allowed."
    if existing.get(code) == "LOCKED" and name != "LOCKED":
        return "name", f"The skill {code} is locked."
    return None


def _rows(path: Path, filename: str):
    """(line, code, name) of each row, read as a stream."""
    if filename.endswith(".json"):
        try:
            items = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, ValueError) as err:
            raise FileProblem(f"The file is not JSON: {err}") from None
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise FileProblem("The file is not a JSON list of objects.")
        for number, item in enumerate(items, start=1):
            yield number, str(item.get("code", "")).strip(), str(item.get("name", "")).strip()
        return
    with path.open("rb") as raw:
        reader = csv.reader(_decoded(raw))
        try:
            yield from _csv_rows(reader)
        except csv.Error as err:
            raise FileProblem(f"The file is not CSV: {err}", line=reader.line_num) from None


def _csv_rows(reader):
    header = next(reader, None)
    if header is None:
        raise FileProblem("The file is empty.", line=1)
    header = [h.strip().lower() for h in header]
    for column in COLUMNS:
        if column not in header:
            raise FileProblem(f"The column {column} is missing.", line=1, column=column)
    at = {column: header.index(column) for column in COLUMNS}
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        cells = [*row, "", ""]
        code, name = (cells[at[c]].strip() for c in COLUMNS)
        yield reader.line_num, code, name


def _decoded(raw):
    """The file's lines as text, decoded one at a time (so a bad byte names its line)."""
    for number, line in enumerate(raw, start=1):
        try:
            yield line.decode("utf-8")
        except UnicodeDecodeError:
            raise FileProblem("The file is not UTF-8 text.", line=number) from None


def skills_kind() -> SkillsKind:
    """The registered test kind (registered once per process)."""
    found = kind_of(KIND)
    if found is None:
        found = register_kind(SkillsKind())
    return found


def csv_bytes(*rows: tuple[str, str], header: str = "code,name") -> bytes:
    return (header + "\n" + "".join(f"{code},{name}\n" for code, name in rows)).encode()
