"""The gateway's problem codes, declared once (the catalogue in docs/problem-codes.md)."""

from __future__ import annotations

from gradops_shared.problems import CATALOGUE, ProblemCatalogue

problems = ProblemCatalogue("gateway")

# Who is calling, may it, how often (answered by the front door before any service is asked).
UNAUTHENTICATED = CATALOGUE["auth.unauthenticated"]
SCOPE_MISSING = CATALOGUE["auth.scope_missing"]
RATE_LIMITED = problems.declare("rate_limited", 429, "Too many requests", "请求过于频繁，请稍后重试")
INVALID_PATH = problems.declare("request.invalid_path", 400, "Bad request", "请求路径含有控制字符")

# The services behind it.
SERVICE_TIMEOUT = problems.declare(
    "gateway.service_timeout", 504, "Service timeout", "后端服务响应超时，请稍后重试"
)
SERVICE_UNREACHABLE = problems.declare(
    "gateway.service_unavailable", 502, "Service unavailable", "后端服务暂不可用，请稍后重试"
)

# API keys (the admin endpoints and `gradops keys`).
KEY_SCOPE_UNKNOWN = problems.declare("api_key.scope_unknown", 422, "Invalid input", "权限范围无效")
KEY_SCOPES_REQUIRED = problems.declare(
    "api_key.scopes_required", 422, "Invalid input", "至少需要一个权限范围"
)
KEY_CENTRE_INVALID = problems.declare("api_key.centre_invalid", 422, "Invalid input", "学习中心代码无效")
KEY_EXPIRY_IN_PAST = problems.declare(
    "api_key.expiry_in_past", 422, "Invalid input", "过期时间必须晚于当前时间"
)
KEY_ADMIN_NEEDS_HQ = problems.declare(
    "api_key.admin_needs_hq", 422, "Invalid input", "admin 权限只能授予全校（总部）密钥"
)
KEY_NOT_FOUND = problems.declare("api_key.not_found", 404, "Not found", "API 密钥不存在")
KEY_BOOTSTRAP_NOT_REVOCABLE = problems.declare(
    "api_key.bootstrap_not_revocable",
    422,
    "Invalid input",
    "引导密钥不可吊销，请修改 GRADOPS_BOOTSTRAP_API_KEY",
)

# Idempotency-Key on creates.
IDEMPOTENCY_KEY_REUSED = problems.declare(
    "idempotency.key_reused", 422, "Invalid input", "该幂等键已用于不同的请求，请为新请求使用新的幂等键"
)
IDEMPOTENCY_IN_FLIGHT = problems.declare(
    "idempotency.in_flight", 409, "Conflict", "使用该幂等键的请求仍在处理中，请稍后重试"
)
IDEMPOTENCY_KEY_INVALID = problems.declare("idempotency.key_invalid", 422, "Invalid input", "幂等键格式无效")
