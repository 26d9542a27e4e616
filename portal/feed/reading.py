"""Reading a feed file, CSV or JSON, as a stream of rows; nothing here knows the database.

CSV: UTF-8 (a BOM is allowed), comma-separated, a header row first, columns in any order,
extra columns ignored; one row per contact (an account without contacts has one row with
the contact columns empty). The file is read line by line and each line decoded on its
own, strictly: a byte that is not UTF-8 is named with its line (a TextIOWrapper decodes
8 KB ahead, so the line it would blame is not the line at fault).

JSON: {"accounts": [{"account_number", "oldest_aging_days", "contacts": [{"contact_id",
"name", "email", "last_login_at"}]}]}, read item by item (json's raw_decode over a
sliding buffer), so a large file is never whole in memory; a row's "line" is the number
of its item in "accounts" (1 for the first).
"""

from __future__ import annotations

import codecs
import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from portal.imports.kinds import FileProblem

CSV_COLUMNS = (
    "account_number",
    "oldest_aging_days",
    "contact_id",
    "contact_name",
    "contact_email",
    "last_login_at",
)
# The contact's fields as the JSON form names them.
JSON_CONTACT_NAMES = {
    "contact_id": "contact_id",
    "contact_name": "name",
    "contact_email": "email",
    "last_login_at": "last_login_at",
}
# One JSON item (an account and its contacts) larger than this is refused: a malformed
# file would otherwise make the reader buffer the rest of it while looking for the end.
MAX_JSON_ITEM_CHARS = 1_000_000
_READ = 64 * 1024
_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


@dataclass(slots=True)
class FeedRow:
    """One contact of one account (or an account alone), its values as the file has them."""

    line: int
    account_number: str
    days: object  # CSV: the text; JSON: the value (int, None, or anything wrong)
    contact_id: str = ""
    name: str = ""
    email: str = ""
    login: object = ""  # CSV: the text; JSON: the value
    # JSON only: where the contact is ("contacts[2]."), for naming a column.
    contact_path: str | None = None
    # A problem with the row's shape (JSON: an item that is not an object...): column, why.
    problem: tuple[str, str] | None = None

    def column(self, name: str) -> str:
        """The column `name` (one of CSV_COLUMNS) as this row's file calls it."""
        if self.contact_path is None or name in ("account_number", "oldest_aging_days"):
            return name
        return f"{self.contact_path}{JSON_CONTACT_NAMES[name]}"

    @property
    def is_json(self) -> bool:
        return self.contact_path is not None


def sniff_format(raw: BinaryIO) -> str:
    """ "json" when the first byte that is not blank (after a BOM) is { or [, else "csv";
    the stream is put back at its start."""
    head = raw.read(4096)
    raw.seek(0)
    first = head.removeprefix(codecs.BOM_UTF8).lstrip(b" \t\r\n")[:1]
    return "json" if first in (b"{", b"[") else "csv"


def read_rows(raw: BinaryIO) -> Iterator[FeedRow]:
    """The rows of the feed in `raw` (a binary file at its start), CSV or JSON; raises
    FileProblem when the file as a whole cannot be read."""
    if sniff_format(raw) == "json":
        return _json_rows(_JsonStream(raw))
    return _csv_rows(raw)


# --- CSV ----------------------------------------------------------------------------------------


def _decoded_lines(raw: BinaryIO) -> Iterator[str]:
    for number, chunk in enumerate(raw, start=1):
        if number == 1:
            chunk = chunk.removeprefix(codecs.BOM_UTF8)
        try:
            yield chunk.decode("utf-8")
        except UnicodeDecodeError as err:
            raise FileProblem(
                f"Line {number} is not UTF-8 (byte {err.start + 1} of the line): "
                "save the file as UTF-8.",
                line=number,
            ) from None


def _next_record(reader) -> list[str] | None:
    try:
        return next(reader)
    except StopIteration:
        return None
    except csv.Error as err:
        line = reader.line_num
        raise FileProblem(f"Line {line} is not valid CSV: {err}.", line=line) from None


def _csv_rows(raw: BinaryIO) -> Iterator[FeedRow]:
    reader = csv.reader(_decoded_lines(raw), strict=True)
    header = _next_record(reader)
    if header is None or not any(h.strip() for h in header):
        raise FileProblem("The file is empty: it needs a header row.", line=1)
    names = [h.strip().lower() for h in header]
    for name in CSV_COLUMNS:
        if names.count(name) > 1:
            raise FileProblem(f"The column {name} appears twice.", line=1, column=name)
    missing = [name for name in CSV_COLUMNS if name not in names]
    if missing:
        raise FileProblem(
            f"The header has no column {missing[0]} (needed: {', '.join(CSV_COLUMNS)}).",
            line=1,
            column=missing[0],
        )
    at = [names.index(name) for name in CSV_COLUMNS]
    last = reader.line_num
    while (record := _next_record(reader)) is not None:
        line, last = last + 1, reader.line_num
        if not any(field.strip() for field in record):
            continue  # a blank line
        values = [record[i].strip() if i < len(record) else "" for i in at]
        number, days, contact_id, name, email, login = values
        yield FeedRow(line, number, days, contact_id, name, email, login)


# --- JSON ---------------------------------------------------------------------------------------


class _JsonStream:
    """Just enough of an incremental JSON reader for {"accounts": [item, ...]}: single
    characters of the structure, and whole values by json's own raw_decode."""

    def __init__(self, raw: BinaryIO):
        self.raw = raw
        self.decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.item = 0  # the item being read, for messages

    def _fill(self) -> None:
        chunk = self.raw.read(_READ)
        try:
            text = self.decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError:
            where = f" (in item {self.item})" if self.item else ""
            raise FileProblem(
                f"The file is not UTF-8{where}: save it as UTF-8.", line=self.item or None
            ) from None
        if not chunk:
            self.eof = True
        if not self.buf and self.pos == 0 and text.startswith("\ufeff"):
            text = text[1:]
        self.buf = self.buf[self.pos :] + text
        self.pos = 0

    def peek(self) -> str:
        """The next character that is not blank ("" at the end of the file)."""
        while True:
            self.pos = _WS.match(self.buf, self.pos).end()
            if self.pos < len(self.buf) or self.eof:
                return self.buf[self.pos : self.pos + 1]
            self._fill()

    def expect(self, wanted: str, what: str) -> None:
        if self.peek() != wanted:
            raise self.problem(f"expected {what}")
        self.pos += 1

    def value(self) -> object:
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as err:
                if self.eof:
                    raise self.problem(err.msg) from None
            else:
                # A number at the end of the buffer may go on in the next chunk.
                if end < len(self.buf) or self.eof or not isinstance(value, int | float):
                    self.pos = end
                    return value
            if len(self.buf) - self.pos > MAX_JSON_ITEM_CHARS:
                raise self.problem(
                    f"a value larger than {MAX_JSON_ITEM_CHARS:,} characters, or malformed"
                )
            self._fill()

    def problem(self, why: str) -> FileProblem:
        where = f"in item {self.item}" if self.item else "before the accounts"
        return FileProblem(
            f'Not a valid JSON feed ({where}): {why}. The form is {{"accounts": [...]}}.',
            line=self.item or None,
        )


def _json_rows(stream: _JsonStream) -> Iterator[FeedRow]:
    stream.expect("{", "an object")
    found = False
    seen_key = False
    while stream.peek() != "}":
        if seen_key:
            stream.expect(",", "a comma")
        seen_key = True
        key = stream.value()
        if not isinstance(key, str):
            raise stream.problem("expected a key")
        stream.expect(":", "a colon")
        if key != "accounts":
            stream.value()  # another key: ignored
            continue
        if found:
            raise stream.problem('"accounts" twice')
        found = True
        stream.expect("[", "a list of accounts")
        first_item = True
        while stream.peek() != "]":
            if not first_item:
                stream.expect(",", "a comma")
            first_item = False
            stream.item += 1
            yield from _item_rows(stream.item, stream.value())
        stream.pos += 1
    stream.pos += 1
    if stream.peek():
        raise stream.problem("more after the end of the object")
    if not found:
        raise FileProblem('The JSON feed has no "accounts" list.', column="accounts")


def _text(value: object) -> str | None:
    """A JSON string or number as text ("" for null); None for anything else."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int):
        return str(value)
    return None


def _item_rows(n: int, item: object) -> Iterator[FeedRow]:
    if not isinstance(item, dict):
        yield FeedRow(n, "", None, problem=("accounts", "not an object"))
        return
    number = _text(item.get("account_number"))
    days = item.get("oldest_aging_days")
    contacts = item.get("contacts") or []
    if number is None:
        yield FeedRow(n, "", days, problem=("account_number", "not a string"))
        return
    if not isinstance(contacts, list):
        yield FeedRow(n, number, days, problem=("contacts", "not a list"))
        return
    if not contacts:
        yield FeedRow(n, number, days, contact_path="")
    for i, contact in enumerate(contacts, start=1):
        path = f"contacts[{i}]."
        if not isinstance(contact, dict):
            yield FeedRow(n, number, days, contact_path=path, problem=(path[:-1], "not an object"))
            continue
        texts = {}
        for name in ("contact_id", "name", "email"):
            texts[name] = _text(contact.get(name))
        bad = [name for name, value in texts.items() if value is None]
        yield FeedRow(
            n,
            number,
            days,
            texts["contact_id"] or "",
            texts["name"] or "",
            texts["email"] or "",
            contact.get("last_login_at"),
            contact_path=path,
            problem=(path + bad[0], "not a string") if bad else None,
        )
