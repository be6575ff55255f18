#!/usr/bin/env bash
# Restore a backup into a NEW, empty database and check it before anyone uses it.
#   scripts/restore.sh DUMP TARGET_DATABASE_URL [PRIVATE_TAR TARGET_MEDIA_DIR]
# Refuses a target database that already has tables; runs `manage.py integrity_check` on it.
set -euo pipefail
dump="${1:?usage: scripts/restore.sh DUMP TARGET_DATABASE_URL [PRIVATE_TAR TARGET_MEDIA_DIR]}"
target="${2:?target database URL}"
tables="$(psql "$target" -Atc "select count(*) from information_schema.tables where table_schema = 'public'")"
if [ "$tables" != "0" ]; then
  echo "refusing to restore into a database that already has $tables tables: $target" >&2
  exit 2
fi
pg_restore --no-owner --exit-on-error --dbname="$target" "$dump"
if [ $# -ge 4 ]; then mkdir -p "$4" && tar -xzf "$3" -C "$4"; fi
DATABASE_URL="$target" "${PYTHON:-python}" "$(dirname "$0")/../manage.py" integrity_check
