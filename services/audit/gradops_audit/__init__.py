"""Audit service: the graduation audit (毕业审核), explainable and event-driven."""
