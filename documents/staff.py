"""A body's staff list, as an administrator has it: an XLSX or CSV file, one person a row.

The first row names the columns (in Vietnamese, any order, any case, with or without
diacritics)::

    Họ và tên | Chức vụ | Đơn vị | Tên đăng nhập | Vai trò | Email

``Đơn vị`` is a unit's abbreviation or name (empty: the body itself); ``Vai trò`` one or
more of Chuyên viên, Lãnh đạo, Văn thư, Kiểm tra, Quản trị (comma-separated).
:func:`read_staff_list` reads at most :data:`MAX_ROWS` rows of text (formulas are not
evaluated, nothing is executed) and returns every row it could read with the problems of
the others, each naming its line, so the administrator fixes the file once. Nothing here
touches the database.
"""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from dataclasses import dataclass, field

from .accounts import Role, checked_username
from .errors import InvalidUsername, StaffListUnreadable

__all__ = ["MAX_ROWS", "StaffList", "StaffRow", "read_staff_list"]

MAX_ROWS = 2000
MAX_BYTES = 5 * 1024 * 1024
_COLUMNS = {
    "ho va ten": "full_name", "ho ten": "full_name", "chuc vu": "position",
    "don vi": "unit", "ten dang nhap": "username", "vai tro": "roles", "email": "email",
}
_REQUIRED = ("full_name", "position", "username", "roles")
_ROLES = {unicodedata.normalize("NFC", r.value).casefold(): r for r in Role}


@dataclass(frozen=True)
class StaffRow:
    line: int
    full_name: str
    position: str
    unit: str | None
    username: str
    roles: tuple[Role, ...]
    email: str | None


@dataclass(frozen=True)
class StaffList:
    rows: list[StaffRow] = field(default_factory=list)
    #: (line, Vietnamese, English) of every row that could not be read
    problems: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _key(header: str) -> str:
    plain = unicodedata.normalize("NFD", header.strip().casefold().replace("đ", "d"))
    return " ".join("".join(c for c in plain if not unicodedata.combining(c)).split())


def _cells(data: bytes, filename: str) -> list[list[str]]:
    if len(data) > MAX_BYTES:
        raise StaffListUnreadable(f"tệp quá lớn (tối đa {MAX_BYTES // 2**20} MB)",
                                  f"the file is too large (at most {MAX_BYTES // 2**20} MB)")
    if filename.lower().endswith(".xlsx"):
        return _xlsx_cells(data)
    if filename.lower().endswith(".csv"):
        text = data.decode("utf-8-sig", errors="strict") if _utf8(data) else None
        if text is None:
            raise StaffListUnreadable("tệp CSV phải lưu bằng mã UTF-8",
                                      "the CSV file must be saved as UTF-8")
        first = text.split("\n", 1)[0]
        delimiter = max(",;\t", key=first.count)
        reader = csv.reader(io.StringIO(text), delimiter=delimiter)
        return [row for _, row in zip(range(MAX_ROWS + 2), reader, strict=False)]
    raise StaffListUnreadable("chỉ nhận tệp .xlsx hoặc .csv", "only .xlsx or .csv files")


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _xlsx_cells(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(i.file_size for i in archive.infolist()) > 20 * MAX_BYTES:
                raise StaffListUnreadable("tệp XLSX giải nén quá lớn",
                                          "the XLSX file expands too much")
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise StaffListUnreadable("tệp XLSX hỏng, không đọc được",
                                  f"the XLSX file is damaged ({exc})") from exc
    try:
        sheet = book.worksheets[0]
        rows = []
        for row in sheet.iter_rows(max_row=MAX_ROWS + 2, max_col=20, values_only=True):
            rows.append(["" if v is None else str(v) for v in row])
        return rows
    finally:
        book.close()


def read_staff_list(data: bytes, filename: str) -> StaffList:
    """The rows of a staff list file, and the problems of the rows that cannot be used."""
    cells = _cells(data, filename)
    if not cells:
        raise StaffListUnreadable("tệp trống", "the file is empty")
    header = [_COLUMNS.get(_key(h), "") for h in cells[0]]
    missing = [c for c in _REQUIRED if c not in header]
    if missing:
        names = {"full_name": "Họ và tên", "position": "Chức vụ", "username": "Tên đăng nhập",
                 "roles": "Vai trò"}
        wanted = ", ".join(names[m] for m in missing)
        raise StaffListUnreadable(f"dòng tiêu đề thiếu cột: {wanted}",
                                  f"the header row lacks the columns: {wanted}")
    if len(cells) > MAX_ROWS + 1:
        raise StaffListUnreadable(f"quá {MAX_ROWS} dòng", f"more than {MAX_ROWS} rows")
    result = StaffList()
    seen: dict[str, int] = {}
    for line, raw in enumerate(cells[1:], start=2):
        values = {name: unicodedata.normalize("NFC", raw[i].strip()) if i < len(raw) else ""
                  for i, name in enumerate(header) if name}
        if not any(values.values()):
            continue
        problem = _row_problem(values)
        if problem is None:
            username = checked_username(values["username"])
            if username in seen:
                problem = (f"tên đăng nhập {username} trùng với dòng {seen[username]}",
                           f"user name {username} repeats line {seen[username]}")
            else:
                seen[username] = line
        if problem is not None:
            result.problems.append((line, *problem))
            continue
        result.rows.append(StaffRow(
            line=line, full_name=values["full_name"], position=values["position"],
            unit=values.get("unit") or None, username=checked_username(values["username"]),
            roles=tuple(_ROLES[r.strip().casefold()] for r in values["roles"].split(",")
                        if r.strip()),
            email=values.get("email") or None))
    return result


def _row_problem(values: dict[str, str]) -> tuple[str, str] | None:
    for name, vi, en in (("full_name", "họ và tên", "full name"), ("position", "chức vụ",
                                                                    "position"),
                         ("username", "tên đăng nhập", "user name"), ("roles", "vai trò",
                                                                      "role")):
        if not values.get(name):
            return f"thiếu {vi}", f"no {en}"
    try:
        checked_username(values["username"])
    except InvalidUsername as exc:
        return exc.vi, exc.en
    unknown = [r.strip() for r in values["roles"].split(",")
               if r.strip() and r.strip().casefold() not in _ROLES]
    if unknown:
        known = ", ".join(r.value for r in Role)
        return (f"vai trò không có: {', '.join(unknown)} (có: {known})",
                f"unknown role: {', '.join(unknown)} (known: {known})")
    email = values.get("email", "")
    if email and ("@" not in email or " " in email):
        return f"email không hợp lệ: {email}", f"invalid e-mail: {email}"
    return None
