"""The photo service's problem codes, declared once (code, HTTP status, English and Chinese title).

Everywhere else raises them: `raise SUBMISSION_NOT_FOUND("No photo submission x.", message_zh=...)`.
A code's string and status never change (partners match on them)."""

from __future__ import annotations

from gradops_shared.problems import ProblemCatalogue

problems = ProblemCatalogue("photo")
declare = problems.declare

# --- requests and uploads ---
CURSOR_INVALID = declare("photo.cursor_invalid", 422, "Invalid cursor", "分页游标无效")
UPLOAD_TOO_LARGE = declare("photo.upload_too_large", 413, "Payload too large", "上传文件过大")
EMPTY_FILE = declare("photo.empty_file", 422, "Invalid input", "上传的文件为空")
FILE_MISSING = declare("photo.file_missing", 422, "Invalid input", "缺少照片文件（file 字段）")
BASE64_INVALID = declare("photo.base64_invalid", 422, "Invalid input", "image_base64 不是有效的 base64 图片")
UNSUPPORTED_MEDIA_TYPE = declare(
    "photo.unsupported_media_type",
    415,
    "Unsupported media type",
    "请以 multipart/form-data 或 JSON(base64) 上传照片",
)
FILTER_INVALID = declare("photo.filter_invalid", 422, "Invalid input", "筛选条件无效")

# --- QC ---
UNKNOWN_PROFILE = declare("photo.unknown_profile", 422, "Invalid input", "未知的照片规格配置")
QC_TIMEOUT = declare("photo.qc_timeout", 503, "Service unavailable", "照片检测超时，请重试")
FORMAT = declare("photo.format", 422, "Invalid input", "上传的文件不是完整的 JPEG 图片")
IMAGE_TOO_LARGE = declare("photo.image_too_large", 413, "Payload too large", "图片尺寸过大")
ADMISSION_UNREADABLE = declare("photo.admission_unreadable", 422, "Invalid input", "入学照片无法读取")

# --- the registry (the owner of the student record) ---
REGISTRY_UNAVAILABLE = declare(
    "photo.registry_unavailable", 503, "Service unavailable", "暂时无法核对学籍信息，请稍后重试"
)
STUDENT_NOT_FOUND = declare("photo.student_not_found", 404, "Not found", "学生不存在")
STUDENT_NOT_ACTIVE = declare("photo.student_not_active", 409, "Conflict", "该学生学籍状态不允许提交照片")
STUDENT_NOT_ENROLLED = declare(
    "photo.student_not_enrolled", 409, "Conflict", "该学生当前不是在籍状态，不能采集照片"
)

# --- submissions and their life-cycle ---
SUBMISSION_NOT_FOUND = declare("photo.submission_not_found", 404, "Not found", "照片提交记录不存在")
LOCKED = declare(
    "photo.locked", 409, "Conflict", "该学生的照片已审核通过并锁定，需由管理员重新开放采集后才能重新上传"
)
ORIGINAL_NOT_KEPT = declare(
    "photo.original_not_kept",
    404,
    "Not found",
    "该照片未通过检测且文件过大，原文件未保存（可查看预览：variant=preview）",
)
FILE_NOT_FOUND = declare("photo.file_not_found", 404, "Not found", "照片文件不存在")
UNKNOWN_REASON = declare("photo.unknown_reason", 422, "Invalid input", "未知的驳回原因代码")
ILLEGAL_TRANSITION = declare("photo.illegal_transition", 409, "Conflict", "照片当前状态不允许该操作")

# --- mini-program capture ---
COLLECTION_CODE_EXPIRED = declare(
    "photo.collection_code_expired", 422, "Invalid input", "采集码已过期，请重新获取"
)
COLLECTION_CODE_INVALID = declare("photo.collection_code_invalid", 422, "Invalid input", "采集码无效")
COLLECTION_CODE_LOCKED = declare(
    "photo.collection_code_locked", 423, "Locked", "身份证号后4位输错次数过多，该采集码已锁定，请15分钟后再试"
)
ID_DIGITS_MISMATCH = declare("photo.id_digits_mismatch", 422, "Invalid input", "身份证号后4位不正确")
CAPTURE_SESSION_NOT_FOUND = declare("photo.capture_session_not_found", 404, "Not found", "采集会话不存在")
CAPTURE_TOKEN_INVALID = declare("photo.capture_token_invalid", 403, "Forbidden", "采集会话凭证无效")
CAPTURE_SESSION_EXPIRED = declare(
    "photo.capture_session_expired", 410, "Gone", "采集会话已过期，请重新扫描采集码"
)

# --- CHSI states in bulk (a CSV) ---
CSV_ENCODING = declare("photo.csv_encoding", 422, "Invalid input", "CSV 文件须为 UTF-8 编码")
CSV_COLUMNS = declare("photo.csv_columns", 422, "Invalid input", "CSV 需包含 student_no 与 chsi_state 列")
CSV_MALFORMED = declare("photo.csv_malformed", 422, "Invalid input", "CSV 文件格式错误")
CSV_EMPTY = declare("photo.csv_empty", 422, "Invalid input", "CSV 文件没有数据行")
CHSI_ROWS_INVALID = declare("photo.chsi_rows_invalid", 422, "Invalid input", "部分行无法处理，未做任何更改")
# Per-row outcomes of that CSV (reported in `rows`, never raised alone).
CHSI_STATE_INVALID = declare(
    "photo.chsi_state_invalid", 422, "Invalid input", "chsi_state 应为 on_chsi 或 chsi_rejected"
)
CHSI_REASON_INVALID = declare(
    "photo.chsi_reason_invalid", 422, "Invalid input", "reason 含有控制字符或超过 1000 字"
)
NO_APPROVED_PHOTO = declare("photo.no_approved_photo", 404, "Not found", "该学生没有已审核的照片")

# --- proofreading (图像校对) ---
NOTHING_TO_PROOFREAD = declare(
    "photo.nothing_to_proofread", 404, "Not found", "该学生没有可校对的已审核毕业照片"
)
PROOFREAD_FINAL = declare("photo.proofread_final", 409, "Conflict", "已确认无误，确认后不能更改")
PROOFREAD_DETAIL_REQUIRED = declare("photo.proofread_detail_required", 422, "Invalid input", "请填写错误内容")

# --- bulk import ---
IMPORT_TOO_LARGE = declare("photo_import.too_large", 413, "Payload too large", "压缩包过大")
IMPORT_NOT_A_ZIP = declare("photo_import.not_a_zip", 422, "Invalid input", "上传的文件不是有效的 zip 压缩包")
IMPORT_TOO_MANY_ENTRIES = declare("photo_import.too_many_entries", 422, "Invalid input", "压缩包内文件过多")
IMPORT_NOT_FOUND = declare("photo_import.not_found", 404, "Not found", "照片导入任务不存在")
