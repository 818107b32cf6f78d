"""Roster files for registry tests (CSV with the Chinese headers registrars use)."""

from __future__ import annotations

import csv
import io

from tests.factories import student_payload


def roster_csv(rows: list[dict[str, str]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def chinese_row(number: str, **overrides: str) -> dict[str, str]:
    p = student_payload()
    row = {
        "学号": number, "姓名": "王五", "性别": "女", "出生日期": p["birth_date"], "证件类型": "居民身份证",
        "证件号码": p["id_number"], "学习中心": "5135701", "层次": "专科", "学生类别": "开放教育",
        "专业": "会计学", "入学年度学期": "2022秋", "学习形式": "业余",
    }  # fmt: skip
    row.update(overrides)
    return row
