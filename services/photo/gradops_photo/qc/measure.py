"""What the checks measure on a decoded photo: regions, colours and head geometry.

`Subject` computes each measure once, on first use, so a check that needs the background colour and
another that needs the head top share the work. Regions come from the five landmarks: `d` is the
distance between the eye centres, the unit every region is expressed in, so the same proportions hold
for any photo size.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np

from gradops_photo.qc.decode import Decoded
from gradops_photo.qc.face import Face, detect_faces
from gradops_photo.qc.profiles import Profile


def to_lab(rgb: np.ndarray) -> np.ndarray:
    """CIE L*a*b* (L* in 0–100) as float32."""
    lab = cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    return lab


def rgb_to_lab(colour: tuple[int, int, int]) -> np.ndarray:
    pixel = np.array([[colour]], dtype=np.uint8)
    lab: np.ndarray = to_lab(pixel)[0, 0]
    return lab


def delta_e(lab: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """CIE76 colour difference, per pixel."""
    diff: np.ndarray = np.sqrt(((lab - reference) ** 2).sum(axis=-1))
    return diff


@dataclass(frozen=True)
class Box:
    left: int
    top: int
    right: int
    bottom: int

    def clip(self, width: int, height: int) -> Box:
        return Box(max(0, self.left), max(0, self.top), min(width, self.right), min(height, self.bottom))

    @property
    def empty(self) -> bool:
        return self.right - self.left < 2 or self.bottom - self.top < 2

    def of(self, array: np.ndarray) -> np.ndarray:
        return array[self.top : self.bottom, self.left : self.right]


def perceptual_hash(rgb: np.ndarray) -> int:
    """64-bit DCT hash (pHash) of the picture: survives re-encoding, resizing and small edits."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    small = cv2.resize(gray, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32)
    low = cv2.dct(small)[:8, :8].flatten()
    median = np.median(low[1:])
    return sum(1 << i for i, value in enumerate(low) if value > median)


class Subject:
    """A decoded photo under a profile; every measure is computed once."""

    def __init__(
        self, data: bytes, decoded: Decoded, profile: Profile, faces: list[Face] | None = None
    ) -> None:
        self.data = data
        self._faces = faces
        self.decoded = decoded
        self.profile = profile
        self.rgb = decoded.rgb
        self.height, self.width = self.rgb.shape[:2]

    # -- whole picture ---------------------------------------------------------------------------
    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @cached_property
    def lab(self) -> np.ndarray:
        return to_lab(self.rgb)

    @cached_property
    def gray(self) -> np.ndarray:
        gray: np.ndarray = cv2.cvtColor(self.rgb, cv2.COLOR_RGB2GRAY)
        return gray

    @cached_property
    def faces(self) -> list[Face]:
        return self._faces if self._faces is not None else detect_faces(self.rgb)

    @property
    def face(self) -> Face | None:
        """The one face the face checks look at (only when exactly one was found)."""
        return self.faces[0] if len(self.faces) == 1 else None

    @cached_property
    def phash(self) -> int:
        return perceptual_hash(self.rgb)

    # -- background ------------------------------------------------------------------------------
    @cached_property
    def corner_colour(self) -> np.ndarray:
        """Lab colour of the two top corners: background in any portrait framed as the spec asks."""
        h, w = max(4, self.height // 12), max(4, self.width // 8)
        corners = np.concatenate(
            [to_lab(self.rgb[:h, :w]).reshape(-1, 3), to_lab(self.rgb[:h, self.width - w :]).reshape(-1, 3)]
        )
        median: np.ndarray = np.median(corners, axis=0)
        return median

    def lab_of(self, box: Box) -> np.ndarray:
        """Lab of one region, without converting the whole picture when it has not been yet."""
        if "lab" in self.__dict__:
            return box.of(self.lab)
        converted: np.ndarray = to_lab(np.ascontiguousarray(box.of(self.rgb)))
        return converted

    @cached_property
    def head_top(self) -> int | None:
        """First row from the top where the head (hair or covering) replaces the background, searched in
        a band over the face; None without a face or when the background never shows above the head."""
        face = self.face
        if face is None:
            return None
        d = face.eye_distance
        cx = face.eye_mid[0]
        band = Box(round(cx - 0.7 * d), 0, round(cx + 0.7 * d), round(face.eye_mid[1])).clip(
            self.width, self.height
        )
        if band.empty:
            return None
        # A large photo is searched on every n-th pixel (n = its width over 480): one output pixel.
        stride = max(1, round(self.width / 480))
        lab = self.lab_of(band)[::stride, ::stride]
        far = delta_e(lab, self.corner_colour) > 18.0
        share = far.mean(axis=1)
        rows = np.nonzero(share > 0.25)[0]
        if len(rows) == 0:
            return None
        top: int = int(rows[0]) * stride
        # Background must be visible above the head; a head touching the top edge measures 0.
        return top

    @cached_property
    def background_regions(self) -> dict[str, Box]:
        """Where the background must show: above the head, and beside it down to the chin."""
        face = self.face
        if face is None:
            top_band = Box(0, 0, self.width, max(4, self.height // 10))
            side_bottom = int(self.height * 0.55)
            side = max(4, self.width // 10)
            return {
                "top": top_band,
                "left": Box(0, 0, side, side_bottom),
                "right": Box(self.width - side, 0, self.width, side_bottom),
            }
        d = face.eye_distance
        cx, eye_y = face.eye_mid
        head_top = self.head_top if self.head_top is not None else round(eye_y - 2.0 * d)
        # Beside the head down to the ears' lower end: below that, raised or tilted shoulders may reach
        # the edge of the frame and are not background.
        ears = round(eye_y + 0.9 * d)
        regions = {
            "top": Box(0, 0, self.width, head_top - max(3, round(0.1 * d))),
            "left": Box(0, 0, round(cx - 2.0 * d), ears),
            "right": Box(round(cx + 2.0 * d), 0, self.width, ears),
        }
        return {name: box.clip(self.width, self.height) for name, box in regions.items()}

    @cached_property
    def background_pixels(self) -> np.ndarray:
        # Every other pixel in each direction: the same statistics at a quarter of the cost.
        regions = [b for b in self.background_regions.values() if not b.empty]
        parts = [b.of(self.lab)[::2, ::2].reshape(-1, 3) for b in regions]
        if not parts:
            return np.empty((0, 3), np.float32)
        return np.concatenate(parts)

    @cached_property
    def background_colour(self) -> np.ndarray | None:
        if len(self.background_pixels) < 50:
            return None
        median: np.ndarray = np.median(self.background_pixels, axis=0)
        return median

    # -- face regions ----------------------------------------------------------------------------
    def face_box(self, face: Face) -> Box:
        """Forehead to mouth, cheek to cheek: skin and features, no hair or background."""
        d = face.eye_distance
        cx, eye_y = face.eye_mid
        return Box(
            round(cx - 1.0 * d), round(eye_y - 0.5 * d), round(cx + 1.0 * d), round(eye_y + 1.3 * d)
        ).clip(self.width, self.height)

    @cached_property
    def skin_colour(self) -> np.ndarray | None:
        """Lab colour of the cheeks (under the eyes, beside the nose)."""
        face = self.face
        if face is None:
            return None
        d = face.eye_distance
        patches = []
        for eye in (face.eye_left, face.eye_right):
            patch = Box(
                round(eye[0] - 0.2 * d),
                round(eye[1] + 0.45 * d),
                round(eye[0] + 0.2 * d),
                round(eye[1] + 0.8 * d),
            )
            patch = patch.clip(self.width, self.height)
            if not patch.empty:
                patches.append(patch.of(self.lab).reshape(-1, 3))
        if not patches:
            return None
        median: np.ndarray = np.median(np.concatenate(patches), axis=0)
        return median
