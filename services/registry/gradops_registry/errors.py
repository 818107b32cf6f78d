"""The registry's problem codes, declared once: code, HTTP status, English and Chinese title.

Everywhere else raises these: `raise STUDENT_NOT_FOUND("No student ...", message_zh="...")`.
Partners match on the codes: never rename one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gradops_shared.problems import GradOpsError, ProblemCatalogue, ProblemType

if TYPE_CHECKING:
    from gradops_registry.schemas import ImportReport

problems = ProblemCatalogue("registry")
declare = problems.declare

# ---- requests ------------------------------------------------------------------------------------
CURSOR_INVALID = declare("registry.cursor_invalid", 422, "Invalid cursor", "分页游标无效")
IF_MATCH_INVALID = declare("registry.if_match_invalid", 422, "Invalid If-Match", "If-Match 须为记录的版本号")
UPLOAD_TOO_LARGE = declare("registry.upload_too_large", 413, "Upload too large", "上传文件过大")

# ---- organisation tree ---------------------------------------------------------------------------
ORG_UNIT_NOT_FOUND = declare(
    "registry.org_unit_not_found", 404, "Organisation unit not found", "组织单位不存在"
)
ORG_ROOT = declare("registry.org_root", 422, "The university is the root", "学校是组织树的根")
ORG_PARENT_NOT_FOUND = declare(
    "registry.org_parent_not_found", 422, "Parent unit not found", "上级单位不存在"
)
ORG_PARENT_KIND = declare("registry.org_parent_kind", 422, "Parent of the wrong kind", "上级单位类型不允许")
ORG_KIND_CHANGE = declare("registry.org_kind_change", 409, "Kind cannot change", "组织单位的类型不能修改")
LEARNING_CENTRE_NOT_FOUND = declare(
    "registry.learning_centre_not_found", 422, "Learning centre not found", "学习中心不存在"
)

# ---- the student record --------------------------------------------------------------------------
STUDENT_NOT_FOUND = declare("registry.student_not_found", 404, "Student not found", "学生不存在")
VERSION_CONFLICT = declare("registry.version_conflict", 409, "Version conflict", "学籍记录已被他人修改")
STUDENT_NO_FORMAT = declare("registry.student_no_format", 422, "Invalid student number", "学号格式无效")
ID_NUMBER_FORMAT = declare("registry.id_number_format", 422, "Invalid ID number", "证件号码格式无效")
ID_NUMBER_BIRTH_DATE = declare(
    "registry.id_number_birth_date", 422, "Invalid birth date in the ID number", "身份证号码中的出生日期无效"
)
ID_NUMBER_CHECKSUM = declare(
    "registry.id_number_checksum", 422, "Wrong ID check character", "身份证号码校验位错误"
)
BIRTH_DATE_MISMATCH = declare(
    "registry.birth_date_mismatch", 422, "Birth date does not match the ID", "出生日期与身份证号码不一致"
)
BIRTH_DATE_FUTURE = declare("registry.birth_date_future", 422, "Birth date in the future", "出生日期晚于今天")
GENDER_MISMATCH = declare(
    "registry.gender_mismatch", 422, "Gender does not match the ID", "性别与身份证号码不一致"
)
ENROLMENT_TERM_FORMAT = declare(
    "registry.enrolment_term_format", 422, "Invalid enrolment term", "入学年度学期格式无效"
)
ENROLMENT_TERM_OUT_OF_RANGE = declare(
    "registry.enrolment_term_out_of_range", 422, "Implausible enrolment term", "入学年度学期不合理"
)
# One per controlled vocabulary (`registry.<field>_unknown`).
VOCABULARY_UNKNOWN: dict[str, ProblemType] = {
    field: declare(f"registry.{field}_unknown", 422, f"Unknown {field}", f"{label}取值无效")
    for field, label in (
        ("level", "学历层次"),
        ("category", "学生类别"),
        ("study_form", "学习形式"),
        ("education_type", "学历类别"),
    )
}

# ---- 学籍异动 --------------------------------------------------------------------------------------
ILLEGAL_STATUS_CHANGE = declare(
    "registry.illegal_status_change", 409, "Status change not allowed", "不能办理该学籍异动"
)
STATUS_GRADUATED_RESERVED = declare(
    "registry.status_graduated_reserved", 409, "Graduated is reserved", "毕业状态只能由证书发放流程设置"
)
STATUS_CHANGE_FIELD_MISSING = declare(
    "registry.status_change_field_missing", 422, "Status change incomplete", "该异动缺少必填内容"
)

# ---- 身份存疑 --------------------------------------------------------------------------------------
IDENTITY_DOUBT_KIND_MISSING = declare(
    "registry.identity_doubt_kind_missing", 422, "Doubt kind missing", "设置身份存疑须注明类型"
)
IDENTITY_NOT_IN_DOUBT = declare(
    "registry.identity_not_in_doubt", 409, "Identity not in doubt", "该学生未被标记为身份存疑"
)

# ---- 前置学历复查 -----------------------------------------------------------------------------------
PRIOR_EDUCATION_ILLEGAL_STEP = declare(
    "registry.prior_education_illegal_step", 409, "Review step not possible", "前置学历复查不能进行该操作"
)
PRIOR_EDUCATION_NOT_APPLICABLE = declare(
    "registry.prior_education_not_applicable",
    409,
    "No prior-education review",
    "仅专升本学生需要前置学历复查",
)
PRIOR_EDUCATION_EVIDENCE_TYPE = declare(
    "registry.prior_education_evidence_type", 422, "Wrong evidence", "证明材料类型无效"
)
PRIOR_EDUCATION_OUTCOME_MISSING = declare(
    "registry.prior_education_outcome_missing", 422, "Review outcome missing", "请填写复查结论"
)
PRIOR_GRADUATION_YEAR_MISSING = declare(
    "registry.prior_graduation_year_missing", 422, "Prior graduation year missing", "请填写前置学历毕业年份"
)
EVIDENCE_TYPE_UNSUPPORTED = declare(
    "registry.evidence_type_unsupported",
    415,
    "Unsupported evidence file",
    "证明材料仅支持 PDF、JPEG 或 PNG 文件",
)
EVIDENCE_NOT_FOUND = declare("registry.evidence_not_found", 404, "Evidence not found", "该学生没有此证明材料")

# ---- 图像采集码 -------------------------------------------------------------------------------------
COLLECTION_CODE_NOT_ENROLLED = declare(
    "registry.collection_code_not_enrolled", 409, "Student not enrolled", "仅在籍学生可以获取图像采集码"
)

# ---- 名单导入 ---------------------------------------------------------------------------------------
IMPORT_REJECTED = declare(
    "registry.import_rejected",
    422,
    "Import rejected",
    "导入文件中有无效行，未导入任何数据（可改正后重新导入，或使用 partial=true 只导入有效行）",
)
IMPORT_ENCODING = declare("registry.import_encoding", 422, "Unknown file encoding", "文件编码无法识别")
IMPORT_MALFORMED = declare("registry.import_malformed", 422, "Malformed roster file", "文件格式错误")
IMPORT_EMPTY = declare("registry.import_empty", 422, "Empty roster file", "文件为空")
IMPORT_SHEET_MISSING = declare(
    "registry.import_sheet_missing", 422, "No first sheet", "XLSX 文件缺少第一个工作表"
)
IMPORT_DUPLICATE_COLUMN = declare("registry.import_duplicate_column", 422, "Duplicate column", "列重复")
IMPORT_UNKNOWN_COLUMN = declare("registry.import_unknown_column", 422, "Unknown column", "无法识别的列")
IMPORT_MISSING_COLUMN = declare("registry.import_missing_column", 422, "Missing column", "缺少必填列")
IMPORT_TOO_MANY_ROWS = declare("registry.import_too_many_rows", 413, "Too many rows", "名单行数过多")
IMPORT_TOO_MANY_COLUMNS = declare("registry.import_too_many_columns", 413, "Too many columns", "名单列数过多")
IMPORT_TOO_MANY_ENTRIES = declare(
    "registry.import_too_many_entries", 413, "Too many XLSX entries", "XLSX 文件包含的条目过多"
)
IMPORT_PART_TOO_LARGE = declare(
    "registry.import_part_too_large", 413, "XLSX part too large", "XLSX 文件解压后过大"
)
IMPORT_CELL_TOO_LONG = declare("registry.import_cell_too_long", 413, "Cell too long", "XLSX 单元格内容过长")
IMPORT_TOO_MANY_SHARED_STRINGS = declare(
    "registry.import_too_many_shared_strings", 413, "Too many shared strings", "XLSX 共享字符串过多"
)
# Row-level codes of the import report (never raised: listed per row and column).
IMPORT_DUPLICATE_STUDENT_NO = declare(
    "registry.import_duplicate_student_no", 422, "Student number twice in the file", "学号在文件中重复"
)
IMPORT_STATUS_CHANGE = declare(
    "registry.import_status_change", 422, "An import does not change a status", "导入不能变更学籍状态"
)


def problem(code: str) -> ProblemType:
    """The declared problem of a registry code (a field problem collected by code)."""
    return problems.codes[code]


class ImportRejected(GradOpsError):
    """A roster with invalid rows and no `partial=true`: nothing written, the report inside."""

    status = IMPORT_REJECTED.status
    code = IMPORT_REJECTED.code
    title = IMPORT_REJECTED.title
    message_zh = IMPORT_REJECTED.title_zh

    def __init__(self, report: ImportReport) -> None:
        super().__init__(
            f"{report.invalid} of {report.rows} rows are invalid; nothing was imported "
            "(see the report, or import the valid rows with partial=true).",
            extra={"report": report.model_dump(mode="json")},
        )
