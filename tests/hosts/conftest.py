"""The host projects and their scenarios run in their own processes, never in this one."""

collect_ignore = ["email_user", "stock_user", "phone_only", "badge_user", "scenarios"]
