"""The engine's hot-path statements, as plain SQL with bound parameters.

Table names come from the models' metadata; every value is a parameter. Portable between SQLite
and PostgreSQL (tested on both). Kept apart so the engine reads as logic, not SQL.
"""

from __future__ import annotations

from .models import ActivityEvent, SyncAttempt, SyncRecord

RECORD_TABLE = SyncRecord._meta.db_table
ATTEMPT_TABLE = SyncAttempt._meta.db_table
DT_FIELD = SyncRecord._meta.get_field("pushed_at")
UUID_FIELD = SyncRecord._meta.get_field("claim_token")
PUSHED_SQL = (
    f"UPDATE {RECORD_TABLE} SET state = 'pushed', target_id = %s, target_number = %s, target_token = %s, "
    "booked_fingerprint = fingerprint, pushed_at = %s, updated_at = %s, attempts = attempts + 1, "
    "reason_code = '', error_code = '', message = %s, suggestion = '', claim_token = NULL, priority = 0 "
    "WHERE id = %s AND claim_token = %s AND state = 'pushing'"
)
RENEW_SQL = (
    f"UPDATE {RECORD_TABLE} SET claimed_at = %s WHERE id = %s AND claim_token = %s AND state = 'pushing'"
)
ATTEMPT_INSERT_SQL = (
    f"INSERT INTO {ATTEMPT_TABLE} (id, record_id, claim_token, started_at, outcome, detail) "
    "VALUES (%s, %s, %s, %s, 'sending', '')"
)
EVENT_INSERT_SQL = (
    f"INSERT INTO {ActivityEvent._meta.db_table} "
    "(organisation_id, link_id, run_id, record_id, level, code, message, payload, created_at) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
ATTEMPT_SUCCESS_SQL = (
    f"UPDATE {ATTEMPT_TABLE} SET outcome = %s, duration_ms = %s, status_code = 200 WHERE id = %s"
)
