"""The certificates service's problem codes, declared once (code, HTTP status, English and Chinese
title). Everywhere else: `raise NOT_FOUND("No certificate for …", message_zh="…")`."""

from __future__ import annotations

from gradops_shared.problems import ProblemCatalogue

problems = ProblemCatalogue("certificates")
declare = problems.declare

# ---- requests and uploads -------------------------------------------------------------------------
CURSOR_INVALID = declare("certificates.cursor_invalid", 422, "Invalid cursor", "分页游标无效")
SCAN_EMPTY = declare("certificates.scan_empty", 422, "Empty scan", "上传的扫描件为空")
SCAN_TOO_LARGE = declare("certificates.scan_too_large", 413, "Scan too large", "扫描件超过 10 MB")
SCAN_FORMAT = declare(
    "certificates.scan_format", 415, "Scan is not a PDF, JPEG or PNG", "扫描件须为 PDF、JPEG 或 PNG 文件"
)
HQ_ONLY = declare("certificates.hq_only", 403, "Forbidden", "该操作只能由总部（教务学籍科）办理")

# ---- certificates and their numbers ---------------------------------------------------------------
NOT_FOUND = declare("certificates.not_found", 404, "Certificate not found", "未找到毕业证书")
NOT_VALID = declare("certificates.not_valid", 409, "Certificate not valid", "该证书已被替换或撤销")
REVOKED = declare("certificates.revoked", 409, "Certificate revoked", "该证书已撤销")
ALREADY_REVOKED = declare(
    "certificates.already_revoked", 409, "Certificate already revoked", "该证书已撤销，撤销不可逆"
)
UNKNOWN_LEVEL = declare(
    "certificates.unknown_level", 422, "Unknown level", "无法确定该学历层次的证书层次代码"
)
SERIAL_EXHAUSTED = declare("certificates.serial_exhausted", 422, "Serial exhausted", "证书流水号已用尽")
NUMBER_FORMAT = declare("certificates.number_format", 422, "Invalid certificate number", "证书编号格式无效")
NUMBER_YEAR = declare("certificates.number_year", 422, "Invalid year in number", "证书编号中的年份无效")
NUMBER_TYPE_CODE = declare(
    "certificates.number_type_code", 422, "Invalid education-type code", "证书编号办学类型代码无效"
)
NUMBER_LEVEL = declare("certificates.number_level", 422, "Invalid level code", "证书编号培养层次代码无效")
NUMBER_SERIAL = declare("certificates.number_serial", 422, "Invalid serial", "证书编号流水号不能为 0")
NUMBER_DEGREE_CODE = declare(
    "certificates.number_degree_code", 422, "Invalid degree code", "学位证书编号学位级别代码无效"
)

# ---- distribution -----------------------------------------------------------------------------------
DISTRIBUTION_ILLEGAL_TRANSITION = declare(
    "certificates.distribution_illegal_transition",
    409,
    "Distribution step not allowed now",
    "证书当前状态不能登记该发放环节",
)
DISTRIBUTION_DATE_ORDER = declare(
    "certificates.distribution_date_order", 422, "Distribution dates out of order", "发放环节日期顺序有误"
)
DISTRIBUTION_DATE_IN_FUTURE = declare(
    "certificates.distribution_date_in_future", 422, "Date in the future", "发放环节的日期不能晚于今天"
)
LATE_COLLECTION_NEEDS_EXPLANATION = declare(
    "certificates.late_collection_needs_explanation",
    422,
    "Late collection needs an explanation",
    "超过领取期限，须填写学习中心的书面说明",
)
RECEIPT_REQUIRED = declare(
    "certificates.receipt_required", 422, "Receipt required", "请上传学生签收单扫描件（PDF、JPEG 或 PNG）"
)
RECEIPT_NOT_FOUND = declare("certificates.receipt_not_found", 404, "Receipt not found", "尚未上传签收单")
CHSI_CHECK_OUTCOME_REQUIRED = declare(
    "certificates.chsi_check_outcome_required",
    422,
    "CHSI check outcome required",
    "请填写证书信息是否与学信网一致",
)

# ---- replacement ------------------------------------------------------------------------------------
REPLACEMENT_NOT_FOUND = declare(
    "certificates.replacement_not_found", 404, "Replacement application not found", "未找到该补办申请"
)
REPLACEMENT_ONCE_ONLY = declare(
    "certificates.replacement_once_only", 409, "Replaced once only", "只能补办一次毕业证明书"
)
REPLACEMENT_NOT_APPLICABLE = declare(
    "certificates.replacement_not_applicable",
    409,
    "Not replaceable",
    "只有毕业证书可以申请补办毕业证明书",
)
REPLACEMENT_ILLEGAL_TRANSITION = declare(
    "certificates.replacement_illegal_transition",
    409,
    "Replacement step not allowed now",
    "补办申请的当前状态不允许该操作",
)

# ---- documents --------------------------------------------------------------------------------------
PRINCIPAL_NAME_MISSING = declare(
    "certificates.principal_name_missing",
    409,
    "Principal's name not configured",
    "尚未配置校长姓名（学历注册必填项）",
)
STUDENT_RECORD_MISSING = declare(
    "certificates.student_record_missing",
    409,
    "Student record not received yet",
    "尚未收到该学生的学籍信息，暂时无法生成文书",
)
NOT_A_REPLACEMENT = declare(
    "certificates.not_a_replacement", 409, "Not a 毕业证明书", "该编号不是毕业证明书（补证号）"
)

# ---- verification and share codes -------------------------------------------------------------------
SHARE_CODE_INVALID = declare(
    "certificates.share_code_invalid",
    404,
    "Share code invalid",
    "验证码无效（不存在、已过期或已撤销）",
)
SHARE_CODE_VALIDITY = declare(
    "certificates.share_code_validity", 422, "Share code validity out of range", "验证码有效期超出范围"
)
SHARE_CODE_REVOKED = declare("certificates.share_code_revoked", 409, "Share code revoked", "验证码已撤销")
SHARE_CODE_EXPIRED = declare(
    "certificates.share_code_expired", 409, "Share code expired", "验证码已过期，请重新生成"
)
