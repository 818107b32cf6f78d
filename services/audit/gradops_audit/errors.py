"""The audit's problem codes, declared once: code, HTTP status, and the titles in English and Chinese.

Everywhere else raises them: `raise BATCH_NOT_FOUND(f"No graduation batch {code}.", message_zh=...)`.
The titles are the ones these answers have always carried (partners match on code and status)."""

from __future__ import annotations

from gradops_shared.problems import GradOpsError, ProblemCatalogue, ProblemType

problems = ProblemCatalogue("audit")


# The fixed English title of each status, as these answers have always carried it.
def _forbidden(code: str, title_zh: str) -> ProblemType:
    return problems.declare(code, 403, "Forbidden", title_zh)


def _not_found(code: str, title_zh: str) -> ProblemType:
    return problems.declare(code, 404, "Not found", title_zh)


def _conflict(code: str, title_zh: str) -> ProblemType:
    return problems.declare(code, 409, "Conflict", title_zh)


def _invalid(code: str, title_zh: str) -> ProblemType:
    return problems.declare(code, 422, "Invalid input", title_zh)


def _unavailable(code: str, title_zh: str) -> ProblemType:
    return problems.declare(code, 503, "Service unavailable", title_zh)


# 403: what only HQ (a key not bound to learning centres) may do.
HQ_ONLY = _forbidden("audit.hq_only", "仅总部（不限学习中心的访问凭证）可执行此操作")

# 404
STUDENT_NOT_FOUND = _not_found("audit.student_not_found", "学生不存在")
BATCH_NOT_FOUND = _not_found("audit.batch_not_found", "毕业批次不存在")
TRANSCRIPT_NOT_FOUND = _not_found("audit.transcript_not_found", "尚未收到该学生的成绩单")
NOT_AUDITED = _not_found("audit.not_found", "该学生尚无毕业审核记录")
AUDIT_NOT_FOUND = _not_found("audit.audit_not_found", "该审核记录不存在")
EXCEPTION_NOT_FOUND = _not_found("audit.exception_not_found", "该例外不存在")

# 409
RULE_SET_SHIPPED = _conflict("audit.rule_set_shipped", "系统内置规则集不可修改，请以新的代码保存自定义规则集")
STUDENT_GRADUATED = _conflict("audit.student_graduated", "该学生已毕业")
NOT_IN_COHORT = _conflict("audit.not_in_cohort", "入学学期晚于本批次截止学期")
DEGREE_NOT_AVAILABLE = _conflict("audit.degree_not_available", "专科层次不能申请学士学位")
APPLICATION_OPEN_ELSEWHERE = _conflict("audit.application_open_elsewhere", "该学生在其他批次已有未完成的申请")
APPLICATION_SIGNED_OFF = _conflict("audit.application_signed_off", "该申请已由总部审核通过")
APPLICATION_CONCURRENT = _conflict(
    "audit.application_concurrent", "同一批学生的另一申请正在同时提交，请重新提交"
)
APPLICATION_WINDOW_CLOSED = _conflict("audit.application_window_closed", "当前不在该批次任何一轮的申请时间内")

# 422
CURSOR_INVALID = _invalid("audit.cursor_invalid", "分页游标无效")
STUDENT_NO_INVALID = _invalid("audit.student_no_invalid", "学号格式无效")
BATCH_CODE_FORMAT = _invalid("audit.batch_code_format", "毕业批次代码格式应为 YYYYMM，例如 202307")
ENROLMENT_TERM_FORMAT = _invalid("audit.enrolment_term_format", "入学年度学期格式应为 2021春 或 2021秋")
BATCH_ROUNDS_INVALID = _invalid(
    "audit.batch_rounds_invalid", "批次轮次设置有误：申请窗口须先开后关、互不重叠、编号不重复"
)
GRADUATION_DATE_MISSING = _invalid("audit.graduation_date_missing", "固定毕业日期规则须给出日期")
QUARTERLY_RULE_MONTH = _invalid(
    "audit.quarterly_rule_month", "季度毕业日期规则仅适用于 3、6、9、12 月批次，其他批次请指定固定毕业日期"
)
ISSUE_DATE_MISMATCH = _invalid("audit.issue_date_mismatch", "发证日期须与本批次毕业日期一致")
TRANSCRIPT_DUPLICATE_COURSE = _invalid("audit.transcript_duplicate_course", "成绩单中课程代码重复")
TRANSCRIPT_DUPLICATE_STUDENT = _invalid("audit.transcript_duplicate_student", "同一学生的成绩单重复出现")
EXCEPTION_NOT_WAIVABLE = _invalid(
    "audit.exception_not_waivable", "该检查项不可豁免（学籍、身份、照片等资格检查不得豁免）"
)
EXCEPTION_SUBSTITUTION_INCOMPLETE = _invalid(
    "audit.exception_substitution_incomplete", "课程替代须同时给出被替代的必修课程和替代课程（两者不同）"
)
EXCEPTION_BATCH_MISSING = _invalid("audit.exception_batch_missing", "限定批次的例外须给出批次代码")
APPLICATION_TARGET = _invalid(
    "audit.application_target", "请给出学号列表（student_nos）或筛选条件（selection）之一"
)
SIGN_OFF_TARGET = _invalid("audit.sign_off_target", "请给出学号列表（student_nos）或 all_passing: true 之一")
SIGN_OFF_WAIT_NEEDS_STUDENTS = _invalid(
    "audit.sign_off_wait_needs_students", "等待重新审核（wait_seconds）须与学号列表（student_nos）一起使用"
)
DIFF_OTHER_STUDENT = _invalid("audit.diff_other_student", "只能比较同一学生的两次审核")

# 503
REGISTRY_UNAVAILABLE = _unavailable("audit.registry_unavailable", "暂时无法核对学籍信息，请稍后重试")

# Reasons an item of a batch request is skipped (reported in `skipped`, never raised on their own).
SKIP_APPLICATION_EXISTS = "audit.application_exists"
SKIP_APPLICATION_NOT_OPEN = "audit.application_not_open"
SKIP_NOT_PASSING = "audit.not_passing"


def student_not_found(student_no: str) -> GradOpsError:
    return STUDENT_NOT_FOUND(
        f"No student with number {student_no}.", message_zh=f"学号 {student_no} 的学生不存在"
    )


def batch_not_found(code: str) -> GradOpsError:
    return BATCH_NOT_FOUND(f"No graduation batch {code}.", message_zh=f"毕业批次 {code} 不存在")
