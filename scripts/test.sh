#!/usr/bin/env bash
# Lint, migration and deployment checks, then the whole pytest suite (on DATABASE_URL / CELERY_BROKER_URL if set).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
mkdir -p var test-artifacts

echo "== ruff"
"$BIN/ruff" check .
"$BIN/ruff" format --check .

echo "== migrations are up to date"
DJANGO_SETTINGS_MODULE=tests.settings "$BIN/python" manage.py makemigrations --check --dry-run

echo "== deployment checks (debug off)"
env -u DJANGO_TESTING DJANGO_DEBUG=false DJANGO_SECRET_KEY="$("$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(50))')" \
  DJANGO_ALLOWED_HOSTS=portal.example DJANGO_SETTINGS_MODULE=portal.settings \
  "$BIN/python" manage.py check --deploy --fail-level WARNING

echo "== pytest (database: $([ -n "${DATABASE_URL:-}" ] && echo PostgreSQL || echo SQLite); broker: $([ -n "${CELERY_BROKER_URL:-}" ] && echo Redis || echo filesystem))"
# The slow fault tests (private redis-server restarts, broker down) run in CI's own step: `pytest -m faults`.
"$BIN/pytest" -m "not faults" "$@"
