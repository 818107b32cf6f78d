"""Audit rules: pure functions over the facts the audit service holds. No I/O.

- `batches`: batch codes, enrolment terms and cohorts, application windows, graduation dates.
- `rules`: the rule-set shapes (graduation and degree) and the rule sets we ship.
- `checks`: the catalogue of checks (what each one means, how to fix it, in zh and en).
- `engine`: one student's audit: every check with outcome, measured value and what is missing.
- `facts`: what an audit looks at (facts, grants, options) and what it finds (checks, results).
"""
