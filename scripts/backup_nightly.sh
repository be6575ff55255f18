#!/usr/bin/env bash
# The stack's backup service: scripts/backup.sh DIR once at start, then every night at
# BACKUP_AT (default 02:30, after the 02:00 recomputation has begun; pg_dump reads a consistent
# snapshot whatever runs). Old files go after BACKUP_KEEP_DAYS (default 14).
set -euo pipefail
dir="${1:?usage: scripts/backup_nightly.sh DIR}"
export BACKUP_KEEP_DAYS="${BACKUP_KEEP_DAYS:-14}"
here="$(dirname "$0")"
while true; do
  "$here/backup.sh" "$dir" || echo "backup failed at $(date -Is)" >&2
  sleep $(( $(date -d "tomorrow ${BACKUP_AT:-02:30}" +%s) - $(date +%s) ))
done
