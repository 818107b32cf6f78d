"""The CHSI-state CSV (student_no,chsi_state[,kind][,reason]): read into rows or refused whole. Pure."""

from __future__ import annotations

import csv
import io

from gradops_photo.errors import CSV_COLUMNS, CSV_EMPTY, CSV_ENCODING, CSV_MALFORMED


def chsi_rows(data: bytes) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) of every data row, keys stripped; a file that cannot be read is a 422."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CSV_ENCODING("The CSV must be UTF-8.", message_zh="CSV 文件须为 UTF-8 编码") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        fieldnames = reader.fieldnames
        if not fieldnames or not {"student_no", "chsi_state"} <= {f.strip() for f in fieldnames}:
            raise CSV_COLUMNS(
                "The CSV needs the columns student_no and chsi_state.",
                message_zh="CSV 需包含 student_no 与 chsi_state 列",
            )
        rows = [
            (n, {k.strip(): v if isinstance(v, str) else "" for k, v in row.items() if isinstance(k, str)})
            for n, row in enumerate(reader, start=2)
        ]
    except csv.Error as exc:  # a NUL byte, a bare CR inside an unquoted field, ...
        raise CSV_MALFORMED(
            f"The CSV cannot be read (line {reader.line_num}): {exc}.",
            message_zh=f"CSV 文件格式错误（第 {reader.line_num} 行）",
        ) from exc
    if not rows:
        raise CSV_EMPTY("The CSV has no rows.", message_zh="CSV 文件没有数据行")
    return rows
