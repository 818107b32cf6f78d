"""Bad input never makes the registry answer 5xx, store anything, or stall the suite (issue 13):
control characters in text fields, junk cursors, broken CSV/XLSX rosters and the bomb corpus."""

from __future__ import annotations

import asyncio
import base64
import io
import threading
import time
import zipfile
from pathlib import Path

import httpx
import pytest
from openpyxl import Workbook

from tests.e2e.slice import assert_problem
from tests.factories import create_student, ensure_learning_centre, student_no, student_payload
from tests.registry import bombs as registry_bombs
from tests.registry.rosters import chinese_row, roster_csv
from tests.support.suite import Suite

IMPORTS = "/api/v1/students/imports"


def _upload(content: bytes, name: str = "r.xlsx") -> dict[str, tuple[str, bytes, str]]:
    return {"file": (name, content, "application/octet-stream")}


# ---- control characters in text fields -------------------------------------------------------------

STUDENT_TEXT_FIELDS = [
    "name", "former_name", "major", "ethnicity", "political_status", "exam_no", "class_code", "work_unit",
    "category", "study_form", "id_number", "enrolment_term", "education_type",
]  # fmt: skip


@pytest.mark.parametrize("bad", ["\x00", "\x1b[31m", "\x85", "\r"])
async def test_control_characters_in_student_fields_are_422_naming_the_field(suite: Suite, bad: str) -> None:
    await ensure_learning_centre(suite.gateway)
    number = student_no()
    for field in STUDENT_TEXT_FIELDS:
        payload = student_payload(**{field: f"张{bad}三"})
        body = assert_problem(await suite.gateway.put(f"/api/v1/students/{number}", json=payload), 422)
        assert field in [e["field"] for e in body["errors"]], (field, body)
    assert (await suite.gateway.get(f"/api/v1/students/{number}")).status_code == 404


async def test_control_characters_elsewhere_are_422(suite: Suite) -> None:
    client = suite.gateway
    await ensure_learning_centre(client)
    number = await create_student(client)
    body = assert_problem(
        await client.put("/api/v1/learning-centres/5135799", json={"name": "中心\x00"}), 422
    )
    assert body["errors"][0]["field"] == "name"
    assert (await client.get("/api/v1/learning-centres/5135799")).status_code == 404
    changes = f"/api/v1/students/{number}/status-changes"
    for body_json, field in (
        ({"change_type": "suspend", "reason": "休学\x07"}, "reason"),
        ({"change_type": "change_major", "reason": "转", "major": "会计\x1b"}, "major"),
    ):
        problem = assert_problem(await client.post(changes, json=body_json), 422)
        assert problem["errors"][0]["field"] == field
    flag = {"in_doubt": True, "kind": "uncertain", "reason": "学信网\x00反馈"}
    assert_problem(await client.post(f"/api/v1/students/{number}/identity-flag", json=flag), 422)
    review = await client.post(
        f"/api/v1/students/{number}/prior-education-review", data={"action": "flag", "notes": "备注\x00"}
    )
    assert assert_problem(review, 422)["errors"][0]["field"] == "notes"
    # A multi-line reason is fine: tabs and newlines are text.
    fine = await client.post(changes, json={"change_type": "suspend", "reason": "工作调动\n第二行"})
    assert fine.status_code == 201
    log = (await client.get(changes)).json()["items"]
    assert [c["change_type"] for c in log] == ["registered", "suspend"]
    for query in (
        {"major": "会\x00计"},
        {"name_prefix": "张\x1b"},
        {"student_no": "1\x00"},
        {"class": "\x85"},
    ):
        assert_problem(await client.get("/api/v1/students", params=query), 422)


# ---- cursors ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cursor",
    ["é", "!!!", "%00", base64.urlsafe_b64encode("学号".encode()).decode(), "QQ\u3000", "x" * 600, ""],
)
async def test_a_junk_cursor_is_422_on_every_list(suite: Suite, cursor: str) -> None:
    await ensure_learning_centre(suite.gateway)
    number = await create_student(suite.gateway)
    for path in ("/api/v1/students", f"/api/v1/students/{number}/status-changes"):
        answer = await suite.gateway.get(path, params={"cursor": cursor})
        assert answer.status_code == 422, (path, cursor, answer.text)


async def test_the_status_change_log_pages_with_a_cursor(suite: Suite) -> None:
    client = suite.gateway
    await ensure_learning_centre(client)
    number = await create_student(client)
    base = f"/api/v1/students/{number}/status-changes"
    for change in ("suspend", "resume", "suspend", "resume"):
        assert (await client.post(base, json={"change_type": change, "reason": "x"})).status_code == 201
    everything = (await client.get(base)).json()
    assert everything["next_cursor"] is None and len(everything["items"]) == 5
    seen, cursor, pages = [], None, 0
    while True:
        page = (await client.get(base, params={"limit": 2, **({"cursor": cursor} if cursor else {})})).json()
        seen += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and seen == everything["items"]
    assert [c["change_type"] for c in seen] == ["registered", "suspend", "resume", "suspend", "resume"]
    history = (await client.get(f"/api/v1/students/{number}/history")).json()
    assert history["status_changes"] == everything["items"]
    assert_problem(await client.get(base, params={"limit": 501}), 422)


# ---- broken rosters ------------------------------------------------------------------------------------


async def test_bare_carriage_returns_in_a_csv_never_500(suite: Suite) -> None:
    await ensure_learning_centre(suite.gateway)
    row = roster_csv([chinese_row(student_no())]).decode()
    header, line = row.splitlines()[:2]
    variants = [
        f"{header}\r{line}\r",  # old Mac line ends
        header + "\n" + line.replace("王五", "王\r五") + "\n",  # a CR inside an unquoted cell
        header + "\n" + line.replace("王五", '"王\r五"') + "\n",  # a CR inside a quoted cell
        "\r\r\r",
        f"{header}\r\n\r{line}",
    ]
    for text in variants:
        answer = await suite.gateway.post(
            IMPORTS, params={"dry_run": "true"}, files=_upload(text.encode(), "r.csv")
        )
        assert answer.status_code in (200, 422), (text, answer.text)
    # The quoted CR is inside a name: a row error naming the column, not a stored name.
    quoted = variants[2].encode()
    report = (
        await suite.gateway.post(IMPORTS, params={"dry_run": "true"}, files=_upload(quoted, "r.csv"))
    ).json()
    assert report["invalid"] == 1 and report["results"][0]["errors"][0]["column"] == "姓名"


async def test_a_control_character_in_a_cell_is_a_row_error(suite: Suite) -> None:
    await ensure_learning_centre(suite.gateway)
    good, bad = student_no(), student_no()
    content = roster_csv([chinese_row(good), chinese_row(bad, 专业="会计\x00学", 姓名="\x1b王")])
    answer = await suite.gateway.post(IMPORTS, params={"partial": "true"}, files=_upload(content, "r.csv"))
    assert answer.status_code == 200
    report = answer.json()
    assert (report["created"], report["invalid"]) == (1, 1)
    errors = report["results"][1]["errors"]
    assert {e["column"] for e in errors} == {"专业", "姓名"}
    assert (await suite.gateway.get(f"/api/v1/students/{bad}")).status_code == 404


async def test_an_xlsx_roster_is_read_by_calamine(suite: Suite) -> None:
    await ensure_learning_centre(suite.gateway)
    number = student_no()
    row = chinese_row(number)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(row))
    sheet.append(list(row.values()))
    buffer = io.BytesIO()
    workbook.save(buffer)
    answer = await suite.gateway.post(IMPORTS, files=_upload(buffer.getvalue()))
    assert answer.status_code == 200 and answer.json()["created"] == 1
    assert (await suite.gateway.get(f"/api/v1/students/{number}")).json()["name"] == "王五"


EXPECTED = {
    "sparse_cell_xfd1048576": (413, "registry.import_too_many_rows"),
    "wide_rows_2000x16384": (413, "registry.import_too_many_columns"),
    "inflating_part_400mb": (413, "registry.import_part_too_large"),
    "lying_size_400mb_declared_1kb": (422, "registry.import_malformed"),
    "shared_strings_4m": (413, "registry.import_too_many_shared_strings"),
    "many_rows_1m": (422, "registry.import_malformed"),
    "many_entries_100k": (413, "registry.import_too_many_entries"),
    "missing_sheet_part": (422, "registry.import_sheet_missing"),
}


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")  # pragma: no cover


class _PeakRss:
    """Samples the process's resident memory every 10 ms in a thread (not on the event loop)."""

    def __init__(self) -> None:
        self.base = self.peak = _rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, _rss_mb())

    def __enter__(self) -> _PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth(self) -> float:
        return self.peak - self.base


# The bound this test states: a hostile roster is refused with at most this much extra memory.
HOSTILE_MEMORY_MB = 64
HEALTHZ_SECONDS = 0.2


async def _healthz_while(suite: Suite, upload: asyncio.Task[httpx.Response]) -> list[float]:
    latencies = []
    while True:
        began = time.perf_counter()
        answer = await suite.gateway.get("/healthz")
        latencies.append(time.perf_counter() - began)
        assert answer.status_code == 200
        if upload.done():
            return latencies
        await asyncio.sleep(0.02)


async def test_hostile_rosters_are_refused_while_healthz_answers(suite: Suite) -> None:
    await ensure_learning_centre(suite.gateway)
    corpus = {name: make() for name, make in registry_bombs.CORPUS.items()}
    for name, content in corpus.items():
        with _PeakRss() as memory:
            upload = asyncio.create_task(suite.gateway.post(IMPORTS, files=_upload(content)))
            latencies = await _healthz_while(suite, upload)
            answer = upload.result()
        status, code = EXPECTED[name]
        assert_problem(answer, status, code)
        assert max(latencies) < HEALTHZ_SECONDS, (name, max(latencies))
        assert memory.growth < HOSTILE_MEMORY_MB, (name, memory.growth)
    assert (await suite.gateway.get("/api/v1/students", params={"centre": "5135701"})).json()["count"] == 0


async def test_a_large_roster_is_validated_off_the_event_loop(suite: Suite) -> None:
    """10,000 rows take seconds of CPU to validate; the suite keeps answering meanwhile."""
    from bench.registry_import import as_xlsx, rows  # the benchmark's roster, smaller

    await ensure_learning_centre(suite.gateway)
    content = await asyncio.to_thread(lambda: as_xlsx(rows(10_000, 0)))
    upload = asyncio.create_task(
        suite.gateway.post(IMPORTS, params={"dry_run": "true"}, files=_upload(content))
    )
    latencies = await _healthz_while(suite, upload)
    assert upload.result().status_code == 200
    assert len(latencies) > 3  # the import really was in flight while /healthz was asked
    # A real roster holds the GIL in bursts while rows are validated: the bound here is "the loop
    # never stalls" on a busy CI machine (1 s, against the 45 s stall before), not the bombs' 200 ms.
    assert max(latencies) < 1.0, max(latencies)


def test_the_corpus_is_small_on_the_wire() -> None:
    """What makes them bombs: kilobytes that name hundreds of megabytes or billions of cells."""
    content = registry_bombs.inflating_part()
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert archive.getinfo("xl/worksheets/sheet1.xml").file_size > 400 * 2**20
    assert len(content) < 500_000 and len(registry_bombs.sparse_cell()) < 2_000
