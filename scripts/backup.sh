#!/usr/bin/env bash
# Back up the portal's PostgreSQL database and private files.
#   scripts/backup.sh DIR            (DATABASE_URL and PORTAL_PRIVATE_MEDIA from the environment)
# Writes DIR/portal-<time>.dump (pg_dump custom format) and DIR/private-<time>.tar.gz; then, when
# BACKUP_KEEP_DAYS is set, deletes this script's files in DIR older than that many days (only after
# the new dump was written, so a failing backup never removes the last good one).
set -euo pipefail
out="${1:?usage: scripts/backup.sh DIR}"
: "${DATABASE_URL:?DATABASE_URL must point at the portal PostgreSQL database}"
mkdir -p "$out"
stamp="$(date +%Y%m%d-%H%M%S)"
pg_dump --format=custom --no-owner --dbname="$DATABASE_URL" --file="$out/portal-$stamp.dump"
media="${PORTAL_PRIVATE_MEDIA:-$(dirname "$0")/../var/private}"
if [ -d "$media" ]; then tar -czf "$out/private-$stamp.tar.gz" -C "$media" .; fi
if [ -n "${BACKUP_KEEP_DAYS:-}" ]; then
  find "$out" -maxdepth 1 -type f \( -name 'portal-*.dump' -o -name 'private-*.tar.gz' \) -mtime +"$BACKUP_KEEP_DAYS" -print -delete >&2
fi
echo "$out/portal-$stamp.dump"
