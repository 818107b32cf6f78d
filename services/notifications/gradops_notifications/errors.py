"""The notifications service's problem codes, declared once (code, HTTP status, en and zh titles).
The codes kept the names they had when the gateway served these endpoints: partners match on them."""

from __future__ import annotations

from gradops_shared.problems import ProblemCatalogue

problems = ProblemCatalogue("notifications")

# Webhooks
EVENT_TYPE_UNKNOWN = problems.declare("webhook.event_type_unknown", 422, "Unknown event type", "事件类型无效")
WEBHOOK_CURSOR_INVALID = problems.declare("webhook.cursor_invalid", 422, "Invalid cursor", "分页游标无效")
WEBHOOK_NOT_FOUND = problems.declare("webhook.not_found", 404, "Webhook not found", "事件推送订阅不存在")
URL_INVALID = problems.declare("webhook.url_invalid", 422, "Invalid webhook URL", "推送地址无效")
URL_NOT_HTTPS = problems.declare(
    "webhook.url_not_https", 422, "Webhook URL not https", "推送地址必须使用 https"
)
URL_HAS_CREDENTIALS = problems.declare(
    "webhook.url_has_credentials",
    422,
    "Webhook URL carries credentials",
    "推送地址不得包含用户名或密码，请改为校验签名",
)
TARGET_FORBIDDEN = problems.declare(
    "webhook.target_forbidden", 422, "Webhook target not allowed", "推送地址指向不允许的地址"
)

# The student timeline
TIMELINE_CURSOR_INVALID = problems.declare("timeline.cursor_invalid", 422, "Invalid cursor", "分页游标无效")
TIMELINE_EVENT_TYPE_UNKNOWN = problems.declare(
    "timeline.event_type_unknown", 422, "Unknown event type", "事件类型无效"
)
TIMELINE_STUDENT_NOT_FOUND = problems.declare(
    "timeline.student_not_found", 404, "Student not found", "学生不存在或不在您的学习中心范围内"
)
