"""QC profiles: every number a university may set, as data.

`chsi-2017` is the national standard (教毕指〔2017〕99号), `ouc-platform` the 国开 platform's upload rule,
`studio-30-40` the studios' 30–40 KB target. Geometry numbers are pixels of the 480×640 frame. A
university with other rules adds a row here (or derives one with `dataclasses.replace`).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class BackgroundColour:
    name: str
    rgb: tuple[int, int, int]


LIGHT_BLUE = BackgroundColour("light_blue", (100, 197, 255))
# The darker "standard blue" many studios print ID photos on; the 国开 platform just says "blue".
STUDIO_BLUE = BackgroundColour("studio_blue", (67, 142, 219))
WHITE = BackgroundColour("white", (255, 255, 255))
LIGHT_GREY = BackgroundColour("light_grey", (240, 240, 240))


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    width: int = 480
    height: int = 640
    min_kb: float | None = None
    max_kb: float = 50.0
    dpi: int = 300
    dpi_required: bool = False  # False: a wrong dpi is a warning (the platform ignores it)
    min_jpeg_quality: int = 60
    backgrounds: tuple[BackgroundColour, ...] = (LIGHT_BLUE,)
    background_max_delta_e: float = 25.0  # CIE76 distance in Lab from the nearest allowed colour
    background_max_std: float = 9.0  # Lab L* standard deviation of the background pixels
    background_max_gradient: float = 12.0  # L* difference between background regions
    background_max_outliers: float = 0.06  # share of background pixels far from its colour (objects)
    # Geometry in the final frame (pixels from the top edge; widths in pixels).
    head_top: tuple[int, int] = (50, 110)
    eye_line: tuple[int, int] = (200, 300)
    face_width: tuple[int, int] = (180, 300)
    max_centre_offset: int = 24  # |face centre - image centre|, pixels (5 % of the width)
    # Pose in degrees; yaw and pitch are estimated from five landmarks (best effort).
    max_roll: float = 8.0
    max_yaw: float = 10.0
    max_pitch: float = 15.0
    min_sharpness: float = 12.0  # variance of the Laplacian, face normalised (see check_sharpness)
    face_brightness: tuple[float, float] = (35.0, 85.0)  # mean L* of the face
    max_clipped: float = 0.05  # share of face pixels black or white clipped
    max_light_imbalance: float = 0.25  # |L - R| / mean of the face's halves
    max_clothing_like_background: float = 0.35  # share of clothing pixels near the background colour
    max_phash_distance: int = 6  # of 64 bits: "the same picture" below or at this
    max_face_distance: float = 0.6  # dlib ResNet embedding: above this, not the same person
    # Standardisation
    max_upscale: float = 1.6  # above this the face is too small to crop from
    max_roll_correction: float = 12.0
    allow_background_replacement: bool = False
    # Pixels the checks look at: a larger picture is downscaled once, while decoding (see qc.decode).
    pixel_budget: int = 4_000_000
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def kb_window(self) -> str:
        return f"{self.min_kb or 0:g}–{self.max_kb:g} KB"


PROFILES: dict[str, Profile] = {
    profile.name: profile
    for profile in (
        Profile(
            "chsi-2017",
            "National standard 教毕指〔2017〕99号: 480×640, 20–40 KB, 300 dpi, "
            "light blue, white or light grey",
            min_kb=20,
            max_kb=40,
            dpi_required=True,
            backgrounds=(LIGHT_BLUE, WHITE, LIGHT_GREY),
        ),
        Profile(
            "ouc-platform",
            "国开 platform upload: 480×640 JPEG, ≤ 50 KB, blue background",
            min_kb=None,
            max_kb=50,
            backgrounds=(LIGHT_BLUE, STUDIO_BLUE),
        ),
        Profile(
            "studio-30-40",
            "Studio deliverable: 480×640 JPEG, 30–40 KB, blue background",
            min_kb=30,
            max_kb=40,
            backgrounds=(LIGHT_BLUE, STUDIO_BLUE),
        ),
    )
}
DEFAULT_PROFILE = "ouc-platform"
