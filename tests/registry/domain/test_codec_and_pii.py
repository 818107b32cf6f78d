"""The collection-code codec (shared with the photo service) and the ID-number cipher."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import reportlab
from PIL import Image

from gradops_registry.service.collection import cjk_font_path, render_png
from gradops_registry.service.pii import PiiCipher
from gradops_registry.settings import RegistrySettings
from gradops_shared.collection_code import (
    BadSignature,
    ExpiredCode,
    MalformedCode,
    issue_code,
    verify_code,
)

# Any TrueType font shows that the lines are drawn; reportlab (a dependency) ships Vera.ttf, so the
# test never depends on what the machine has installed.
_FONTS = [
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path(reportlab.__file__).parent / "fonts" / "Vera.ttf",
]
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=30)


def test_a_code_round_trips_and_names_only_the_student_number() -> None:
    code = issue_code("2021510001", LATER, "k1")
    claims = verify_code(code, "k1", NOW)
    assert claims.student_no == "2021510001" and claims.expires_at == LATER
    assert code.startswith("GC1.")


def test_a_code_signed_with_another_key_or_altered_is_refused() -> None:
    code = issue_code("2021510001", LATER, "k1")
    with pytest.raises(BadSignature):
        verify_code(code, "k2", NOW)
    prefix, _payload, mac = code.split(".")
    forged_payload = issue_code("2021510002", LATER, "k1").split(".")[1]
    with pytest.raises(BadSignature):
        verify_code(f"{prefix}.{forged_payload}.{mac}", "k1", NOW)


def test_an_expired_code_is_refused() -> None:
    code = issue_code("2021510001", NOW, "k1")
    with pytest.raises(ExpiredCode) as raised:
        verify_code(code, "k1", NOW + timedelta(seconds=1))
    assert raised.value.code == "collection_code.expired"


@pytest.mark.parametrize("garbage", ["", "GC1", "GC2.a.b", "GC1.a.b.c", "GC1.!!.??", "hello world"])
def test_malformed_codes_are_refused(garbage: str) -> None:
    with pytest.raises((MalformedCode, BadSignature)):
        verify_code(garbage, "k1", NOW)


def test_naive_expiry_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        issue_code("1", datetime(2030, 1, 1), "k1")


def test_the_cipher_round_trips_and_never_stores_the_number_in_clear() -> None:
    cipher = PiiCipher("secret")
    sealed = cipher.encrypt("11010519491231002X")
    assert "11010519491231002X" not in sealed and "002X" not in sealed
    assert cipher.decrypt(sealed) == "11010519491231002X"
    assert cipher.encrypt("11010519491231002X") != sealed  # a fresh nonce each time


def test_the_lookup_hash_is_stable_and_keyed() -> None:
    assert PiiCipher("a").lookup_hash("X1") == PiiCipher("a").lookup_hash("X1")
    assert PiiCipher("a").lookup_hash("X1") != PiiCipher("b").lookup_hash("X1")


def test_another_key_cannot_read_the_number() -> None:
    sealed = PiiCipher("a").encrypt("11010519491231002X")
    with pytest.raises(Exception):  # noqa: B017 - cryptography's InvalidTag
        PiiCipher("b").decrypt(sealed)


def test_the_qr_png_gets_text_lines_only_when_a_font_is_there(tmp_path: Path) -> None:
    bare = Image.open(io.BytesIO(render_png("GC1.x.y", ["张**三  *****002X"], None)))
    font = next(p for p in _FONTS if p.is_file())
    with_text = Image.open(
        io.BytesIO(render_png("GC1.x.y", ["张**三  *****002X", "昆明开放学院  专科"], font))
    )
    assert with_text.width == bare.width and with_text.height > bare.height
    missing = RegistrySettings(collection_code_font_path=str(tmp_path / "none.ttf"))
    assert cjk_font_path(missing) is None
