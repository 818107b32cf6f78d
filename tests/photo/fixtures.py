"""The photo QC evaluation set, made by code at test time from two public-domain portraits.

Sources (committed, made once by `tests/photo/fixtures_qc/make_sources.py`): scikit-image's astronaut
(Eileen Collins, NASA) and matplotlib's Grace Hopper (US Navy), each with a person mask. Every variant
here is deterministic: the person is composited on a background, framed at a known scale and eye
position, then altered (blur, rotation, wrong background, ...). Each fixture names the check codes it
must fail under its profile; every other check must pass. `bench/photo_qc.py` uses the same set for
per-check precision and recall.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

SOURCES = Path(__file__).parent / "fixtures_qc"
LIGHT_BLUE = (100, 197, 255)


@dataclass(frozen=True)
class Source:
    rgb: np.ndarray
    mask: np.ndarray  # 0..1 float, the person
    eyes: tuple[tuple[float, float], tuple[float, float]]  # measured once with dlib's 5 landmarks
    head_top: float  # first row of hair, measured by eye on the source


# Eye centres and head tops in the committed source pictures (see make_sources.py).
_GEOMETRY = {
    "astronaut": (((153.5, 102.0), (196.5, 104.5)), 15.0),
    "grace_hopper": (((223.5, 194.0), (308.5, 190.0)), 28.0),
}


@cache
def source(name: str) -> Source:
    rgb = np.asarray(Image.open(SOURCES / f"{name}.jpg").convert("RGB"))
    mask = np.asarray(Image.open(SOURCES / f"{name}_mask.png").convert("L"), dtype=np.float32) / 255.0
    mask = np.asarray(cv2.GaussianBlur(mask, (5, 5), 0), dtype=np.float32)
    eyes, head_top = _GEOMETRY[name]
    return Source(rgb, mask, eyes, head_top)


def framed(
    name: str = "astronaut",
    *,
    face_width: float = 230,
    eye_line: float = 245,
    centre_x: float = 240,
    size: tuple[int, int] = (480, 640),
    background: tuple[int, int, int] = LIGHT_BLUE,
    roll: float = 0.0,
) -> np.ndarray:
    """The person composited on a plain background, scaled so the face (2.5 eye distances) is
    `face_width` px wide with the eyes' midpoint at (`centre_x`, `eye_line`), in a 480×640 frame
    (geometry given for 480 wide; `size` scales the whole frame)."""
    src = source(name)
    (lx, ly), (rx, ry) = src.eyes
    eye_distance = math.dist((lx, ly), (rx, ry))
    frame_scale = size[0] / 480
    scale = face_width / (2.5 * eye_distance) * frame_scale
    mid = ((lx + rx) / 2, (ly + ry) / 2)
    source_roll = math.degrees(math.atan2(ry - ly, rx - lx))
    matrix = cv2.getRotationMatrix2D(mid, source_roll - roll, scale)
    matrix[0, 2] += centre_x * frame_scale - mid[0]
    matrix[1, 2] += eye_line * frame_scale - mid[1]
    person = cv2.warpAffine(src.rgb, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    alpha = cv2.warpAffine(src.mask, matrix, size, flags=cv2.INTER_LINEAR, borderValue=0)[..., None]
    # Keep the torso down to the frame's bottom: below the source's last row the person continues.
    canvas = np.empty_like(person)
    canvas[:] = background
    return np.asarray(person * alpha + canvas * (1 - alpha), dtype=np.uint8)


def jpeg_bytes(
    rgb: np.ndarray, *, quality: int = 90, dpi: int | None = 300, mode: str = "RGB", max_kb: float = 45
) -> bytes:
    """Baseline JPEG at the highest quality ≤ `quality` that keeps it under `max_kb`."""
    image = Image.fromarray(rgb, "RGB")
    if mode != "RGB":
        image = image.convert(mode)
    for q in range(quality, 9, -3):
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=q, **({"dpi": (dpi, dpi)} if dpi else {}))
        if len(buffer.getvalue()) <= max_kb * 1024:
            break
    return buffer.getvalue()


def graduation_rgb(name: str = "astronaut") -> np.ndarray:
    return framed(name)


# -- alterations -----------------------------------------------------------------------------------


def framed_with(src: Source, **frame: float) -> np.ndarray:
    (lx, ly), (rx, ry) = src.eyes
    eye_distance = math.dist((lx, ly), (rx, ry))
    scale = frame.get("face_width", 230) / (2.5 * eye_distance)
    mid = ((lx + rx) / 2, (ly + ry) / 2)
    matrix = cv2.getRotationMatrix2D(mid, math.degrees(math.atan2(ry - ly, rx - lx)), scale)
    matrix[0, 2] += frame.get("centre_x", 240) - mid[0]
    matrix[1, 2] += frame.get("eye_line", 245) - mid[1]
    alpha = cv2.warpAffine(src.mask, matrix, (480, 640), flags=cv2.INTER_LINEAR, borderValue=0)[..., None]
    return (np.full((640, 480, 3), 255.0) * alpha).astype(np.uint8)


def person_alpha() -> np.ndarray:
    return framed_with(source("astronaut"))[..., 0].astype(np.float32)[..., None] / 255.0


def _eyes_in_frame() -> tuple[tuple[float, float], tuple[float, float], float]:
    src = source("astronaut")
    (lx, ly), (rx, ry) = src.eyes
    d = math.dist((lx, ly), (rx, ry))
    scale = 230 / (2.5 * d)
    half = d * scale / 2
    return (240 - half, 245.0), (240 + half, 245.0), d * scale


def on_background(background: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """The standard framing with the background pixels replaced by `background(canvas)`."""
    person = framed("astronaut")
    alpha = person_alpha()
    canvas = background(np.empty_like(person)).astype(np.float32)
    return np.asarray(person * alpha + canvas * (1 - alpha), dtype=np.uint8)


def _gradient(canvas: np.ndarray) -> np.ndarray:
    canvas[:] = LIGHT_BLUE
    ramp = np.linspace(-45, 45, canvas.shape[1])[None, :, None]
    return np.clip(canvas.astype(np.float32) + ramp, 0, 255)


def _with_object(canvas: np.ndarray) -> np.ndarray:
    canvas[:] = LIGHT_BLUE
    canvas[20:260, 10:90] = (70, 60, 50)  # a door frame / a person's arm behind
    return canvas


def _shadow(canvas: np.ndarray) -> np.ndarray:
    canvas[:] = LIGHT_BLUE
    yy, xx = np.mgrid[0 : canvas.shape[0], 0 : canvas.shape[1]]
    shade = np.exp(-(((xx - 420) / 90.0) ** 2 + ((yy - 220) / 200.0) ** 2))[..., None]
    return np.asarray(canvas * (1 - 0.55 * shade))


def _eyes_closed(rgb: np.ndarray) -> np.ndarray:
    left, right, d = _eyes_in_frame()
    out = rgb.copy()
    for x, y in (left, right):
        skin = np.median(
            out[round(y + 0.5 * d) : round(y + 0.7 * d), round(x - 0.15 * d) : round(x + 0.15 * d)].reshape(
                -1, 3
            ),
            axis=0,
        )
        cv2.ellipse(
            out,
            (round(x), round(y)),
            (round(0.32 * d), round(0.2 * d)),
            0,
            0,
            360,
            tuple(int(v) for v in skin),
            -1,
        )
        cv2.ellipse(
            out,
            (round(x), round(y + 0.04 * d)),
            (round(0.28 * d), round(0.05 * d)),
            0,
            0,
            180,
            (60, 45, 40),
            2,
        )
    return out


def _mouth_open(rgb: np.ndarray) -> np.ndarray:
    _left, _right, d = _eyes_in_frame()
    out = rgb.copy()
    nose_y = 245 + 0.72 * d
    cv2.ellipse(
        out, (240, round(nose_y + 0.45 * d)), (round(0.3 * d), round(0.2 * d)), 0, 0, 360, (40, 15, 20), -1
    )
    return out


def _fringe(rgb: np.ndarray) -> np.ndarray:
    _left, _right, d = _eyes_in_frame()
    out = rgb.copy()
    top = round(245 - 1.9 * d)
    cv2.rectangle(
        out, (round(240 - 1.05 * d), top), (round(240 + 1.05 * d), round(245 - 0.25 * d)), (120, 85, 45), -1
    )
    for x in (round(240 - 1.25 * d), round(240 + 1.25 * d)):  # hair over the ears
        cv2.rectangle(
            out,
            (x - round(0.3 * d), round(245 - 0.3 * d)),
            (x + round(0.3 * d), round(245 + 1.0 * d)),
            (120, 85, 45),
            -1,
        )
    return out


def _blue_clothes(rgb: np.ndarray) -> np.ndarray:
    out = rgb.copy()
    _, _, d = _eyes_in_frame()
    alpha = person_alpha()[..., 0]
    torso = np.zeros_like(alpha, dtype=bool)
    torso[round(245 + 2.2 * d) :, :] = True
    paint = (alpha > 0.5) & torso
    out[paint] = (95, 190, 250)
    return out


def _darker_face(rgb: np.ndarray) -> np.ndarray:
    alpha = person_alpha()
    dark = (rgb.astype(np.float32) * 0.28).astype(np.uint8)
    return np.asarray(dark * alpha + rgb * (1 - alpha), dtype=np.uint8)


def _side_light(rgb: np.ndarray) -> np.ndarray:
    alpha = person_alpha()
    ramp = np.clip(0.3 + (np.arange(rgb.shape[1]) - 150) / 180 * 0.8, 0.3, 1.1)[None, :, None]
    lit = np.clip(rgb.astype(np.float32) * ramp, 0, 255)
    return np.asarray(lit * alpha + rgb * (1 - alpha), dtype=np.uint8)


def _two_faces() -> np.ndarray:
    left = framed("astronaut", face_width=150, centre_x=130, eye_line=230)
    right = framed("grace_hopper", face_width=150, centre_x=350, eye_line=230)
    out = left.copy()
    out[:, 240:] = right[:, 240:]
    return out


def _truncated() -> bytes:
    data = jpeg_bytes(graduation_rgb())
    return data[: len(data) * 2 // 3]


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(graduation_rgb()).save(buffer, "PNG")
    return buffer.getvalue()


def _camera_file() -> bytes:
    """Straight from a camera: best quality, full chroma and a big metadata block (over 50 KB)."""
    buffer = io.BytesIO()
    Image.fromarray(graduation_rgb()).save(
        buffer, "JPEG", quality=97, subsampling="4:4:4", dpi=(300, 300), comment=b"camera maker notes " * 1500
    )
    return buffer.getvalue()


def _over_compressed() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(graduation_rgb()).save(buffer, "JPEG", quality=25, dpi=(300, 300))
    return buffer.getvalue()


@dataclass(frozen=True)
class Fixture:
    name: str
    make: Callable[[], bytes]
    fails: frozenset[str]  # codes that must fail; every other check must pass
    profile: str = "ouc-platform"
    notes: str = ""
    standardise_fixes: bool | None = None  # None: standardisation not asserted for this one
    # Where the engine is known to be wrong on this fixture (false alarm or miss), written down rather
    # than hidden: the tests expect exactly `fails ^ known_wrong`, the benchmark counts them as errors.
    known_wrong: frozenset[str] = field(default_factory=frozenset)

    @property
    def engine_fails(self) -> frozenset[str]:
        """What the engine reports today: the truth with its known mistakes."""
        return self.fails ^ self.known_wrong

    @property
    def data(self) -> bytes:
        return _data(self.name)


def _fixture(name: str, make: Callable[[], bytes], *fails: str, **kwargs: object) -> Fixture:
    return Fixture(name, make, frozenset(fails), **kwargs)  # type: ignore[arg-type]


def _jpeg(make_rgb: Callable[[], np.ndarray], **encode: object) -> Callable[[], bytes]:
    return lambda: jpeg_bytes(make_rgb(), **encode)  # type: ignore[arg-type]


FIXTURES: tuple[Fixture, ...] = (
    _fixture("good", _jpeg(graduation_rgb), standardise_fixes=True),
    _fixture("good_chsi", _jpeg(graduation_rgb, max_kb=38), profile="chsi-2017"),
    _fixture("good_studio_blue", _jpeg(lambda: framed(background=(67, 142, 219)))),
    # Inside every band but away from its middle: the geometry checks must not fire.
    _fixture("good_small_face_low", _jpeg(lambda: framed(face_width=190, eye_line=250))),
    _fixture("good_large_face_high_eyes", _jpeg(lambda: framed(face_width=280, eye_line=285))),
    _fixture("good_slightly_off_centre", _jpeg(lambda: framed(centre_x=258))),
    _fixture("glasses_and_cap", _jpeg(lambda: framed("grace_hopper", face_width=220)), "photo.glasses"),
    _fixture(
        "white_background", _jpeg(lambda: framed(background=(255, 255, 255))), "photo.background_colour"
    ),
    _fixture(
        "white_background_chsi",
        _jpeg(lambda: framed(background=(255, 255, 255)), max_kb=38),
        profile="chsi-2017",
    ),
    _fixture("grey_background", _jpeg(lambda: framed(background=(128, 128, 128))), "photo.background_colour"),
    _fixture("background_gradient", _jpeg(lambda: on_background(_gradient)), "photo.background_uniformity"),
    _fixture("background_object", _jpeg(lambda: on_background(_with_object)), "photo.background_uniformity"),
    _fixture("background_shadow", _jpeg(lambda: on_background(_shadow)), "photo.background_uniformity"),
    _fixture("blurred", _jpeg(lambda: cv2.GaussianBlur(graduation_rgb(), (0, 0), 3.0)), "photo.sharpness"),
    _fixture("rotated_5", _jpeg(lambda: framed(roll=5))),
    _fixture("rotated_11", _jpeg(lambda: framed(roll=11)), "photo.head_pose", standardise_fixes=True),
    _fixture(
        "rotated_20",
        _jpeg(lambda: framed(roll=20, face_width=200)),
        "photo.head_pose",
        standardise_fixes=False,
    ),
    _fixture(
        "off_centre", _jpeg(lambda: framed(centre_x=320)), "photo.face_position", standardise_fixes=False
    ),
    _fixture(
        "studio_off_centre",
        _jpeg(lambda: framed(size=(1200, 1600), face_width=170, eye_line=300, centre_x=300), max_kb=400),
        "photo.dimensions",
        "photo.file_size",
        "photo.face_size",
        "photo.face_position",
        standardise_fixes=True,
    ),
    _fixture("head_too_high", _jpeg(lambda: framed(eye_line=185)), "photo.face_position"),
    _fixture(
        "face_too_small",
        _jpeg(lambda: framed(face_width=140, eye_line=280)),
        "photo.face_size",
        "photo.face_position",
    ),
    _fixture(
        "face_too_large",
        _jpeg(lambda: framed(face_width=330, eye_line=290)),
        "photo.face_size",
        "photo.face_position",
    ),
    _fixture(
        "two_faces",
        _jpeg(_two_faces),
        "photo.face_count",
        "photo.background_uniformity",
        standardise_fixes=False,
    ),
    _fixture("no_face", _jpeg(lambda: framed(centre_x=2000)), "photo.face_count", standardise_fixes=False),
    _fixture(
        "wrong_size", _jpeg(lambda: framed(size=(600, 800))), "photo.dimensions", standardise_fixes=True
    ),
    _fixture(
        "studio_large",
        _jpeg(lambda: framed(size=(1200, 1600), face_width=200, eye_line=260), max_kb=400),
        "photo.dimensions",
        "photo.file_size",
        standardise_fixes=True,
    ),
    _fixture("over_compressed", _over_compressed, "photo.format", standardise_fixes=False),
    _fixture(
        "cmyk",
        _jpeg(graduation_rgb, mode="CMYK", quality=75, max_kb=1000),
        "photo.colour_mode",
        "photo.file_size",
        standardise_fixes=True,
    ),
    _fixture(
        "greyscale",
        _jpeg(graduation_rgb, mode="L"),
        "photo.colour_mode",
        "photo.background_colour",
        standardise_fixes=False,
    ),
    _fixture("png_renamed_jpg", _png, "photo.format", "photo.file_size", "photo.dpi", standardise_fixes=True),
    _fixture("truncated", _truncated, "photo.format", standardise_fixes=False),
    _fixture("file_too_big", _camera_file, "photo.file_size", standardise_fixes=True),
    _fixture("no_dpi", _jpeg(graduation_rgb, dpi=None), "photo.dpi", standardise_fixes=True),
    _fixture("eyes_closed", _jpeg(lambda: _eyes_closed(graduation_rgb())), "photo.eyes_open"),
    _fixture("mouth_open", _jpeg(lambda: _mouth_open(graduation_rgb())), "photo.mouth_closed"),
    _fixture(
        "hair_over_brows_and_ears", _jpeg(lambda: _fringe(graduation_rgb())), "photo.ears_eyebrows_visible"
    ),
    _fixture("blue_clothes", _jpeg(lambda: _blue_clothes(graduation_rgb())), "photo.clothing_contrast"),
    _fixture("face_too_dark", _jpeg(lambda: _darker_face(graduation_rgb())), "photo.exposure"),
    _fixture("side_lit", _jpeg(lambda: _side_light(graduation_rgb())), "photo.exposure"),
)
BY_NAME = {f.name: f for f in FIXTURES}


@cache
def _data(name: str) -> bytes:
    return BY_NAME[name].make()


def admission_photo(same_picture: bool = False, person: str = "astronaut") -> bytes:
    """An admission photo: the graduation picture itself re-encoded (same picture), or another shot of
    the person (reframed and re-lit, so not the same picture), or another person."""
    if same_picture:
        return jpeg_bytes(graduation_rgb(), quality=70)
    rgb = framed(person, face_width=200, eye_line=265, centre_x=225, background=(67, 142, 219))
    return jpeg_bytes(cv2.convertScaleAbs(rgb, alpha=1.08, beta=6))


# What a phone writes: the sensor's pixels as they came (turned a quarter) and an EXIF tag that says
# how to turn them upright. Pillow's transpose that undoes each tag (ImageOps.exif_transpose's table).
_UNDO_TAG = {6: Image.Transpose.ROTATE_270, 8: Image.Transpose.ROTATE_90}
_STORED_AS = {6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}


def phone_photo(orientation: int | None, *, tagged: int | None = None, max_kb: float = 45) -> bytes:
    """The passing graduation photo stored turned a quarter (as the sensor saw it) for `orientation`
    6 or 8, with the EXIF Orientation tag `tagged` (default: the honest one; None: no tag at all)."""
    image = Image.fromarray(graduation_rgb(), "RGB")
    if orientation is not None:
        image = image.transpose(_STORED_AS[orientation])
    tag = orientation if tagged is None else tagged
    exif = Image.Exif()
    if tag is not None:
        exif[0x0112] = tag
    for q in range(90, 9, -3):
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=q, dpi=(300, 300), exif=exif.tobytes())
        if len(buffer.getvalue()) <= max_kb * 1024:
            break
    return buffer.getvalue()


def solid_jpeg(
    width: int, height: int, colour: tuple[int, int, int] = LIGHT_BLUE, quality: int = 95
) -> bytes:
    """The issue's pixel bomb: a solid colour compresses to almost nothing (6000×6000 is ~560 KB, under
    the 40 MP cap) yet decodes to a huge bitmap."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()
