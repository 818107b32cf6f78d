"""Comparisons with the admission photo: not the same picture, and the same person."""

from __future__ import annotations

import hashlib
from collections import OrderedDict

import numpy as np

from gradops_photo.qc.checks.result import result
from gradops_photo.qc.face import Face, embedding
from gradops_photo.qc.measure import Subject
from gradops_photo.qc.report import Check


def same_as_admission(graduation: Subject, admission: Subject) -> Check:
    """The graduation photo must be a new picture: identical bytes or a near-identical pHash fail."""
    identical = hashlib.sha256(graduation.data).digest() == hashlib.sha256(admission.data).digest()
    distance = int(bin(graduation.phash ^ admission.phash).count("1"))
    same = identical or distance <= graduation.profile.max_phash_distance
    return result(
        "photo.same_as_admission",
        not same,
        {"identical_bytes": identical, "phash_distance": distance},
        {"min_phash_distance": graduation.profile.max_phash_distance + 1},
        fail_zh="毕业照片与入学照片是同一张照片",
        fail_en="The graduation photo is the same picture as the admission photo",
        hint_zh="请提交近期新拍摄的毕业照片",
        hint_en="submit a recent, newly taken graduation photo",
        ok_zh="与入学照片不是同一张照片",
        ok_en="A different picture from the admission photo",
    )


# Embeddings by the photo's sha256, per process: a student re-checks retake after retake against the same
# admission photo, whose ResNet pass (the costly part, ~90 ms of CPU) is then done once.
_EMBEDDINGS: OrderedDict[str, np.ndarray] = OrderedDict()
_EMBEDDINGS_KEPT = 256


def _embedding_of(subject: Subject, face: Face) -> np.ndarray:
    cached = _EMBEDDINGS.get(subject.sha256)
    if cached is not None:
        _EMBEDDINGS.move_to_end(subject.sha256)
        return cached
    computed = embedding(subject.rgb, face)
    _EMBEDDINGS[subject.sha256] = computed
    if len(_EMBEDDINGS) > _EMBEDDINGS_KEPT:
        _EMBEDDINGS.popitem(last=False)
    return computed


def face_match(graduation: Subject, admission: Subject) -> Check:
    """Admission and graduation photos must show the same person (dlib ResNet embedding distance)."""
    limit = graduation.profile.max_face_distance
    if graduation.face is None or admission.face is None:
        return result(
            "photo.face_match",
            False,
            {"distance": None, "faces": [len(graduation.faces), len(admission.faces)]},
            {"max_distance": limit},
            severity="review",
            fail_zh="无法比对人脸（两张照片须各有一张人脸），需人工确认",
            fail_en="The faces could not be compared (each photo needs exactly one face): "
            "a reviewer will check",
            hint_zh="两张照片都须为本人单人正面照",
            hint_en="both photos must show the student alone, facing the camera",
        )
    distance = float(
        np.linalg.norm(_embedding_of(graduation, graduation.face) - _embedding_of(admission, admission.face))
    )
    return result(
        "photo.face_match",
        distance <= limit,
        {"distance": round(distance, 3)},
        {"max_distance": limit},
        fail_zh=f"与入学照片不像同一人（距离 {distance:.2f}，上限 {limit}）",
        fail_en="The admission photo does not seem to show the same person "
        f"(distance {distance:.2f} > {limit})",
        hint_zh="请本人拍摄；如确为本人，请联系学习中心人工核对",
        hint_en="the student must be in the photo; if it is the student, ask the centre for a manual check",
        ok_zh="与入学照片为同一人",
        ok_en="The same person as in the admission photo",
    )
