#!/usr/bin/env bash
# A self-signed certificate for a trial installation (browsers will warn; use the province's
# certificate for real):  scripts/self_signed_cert.sh DIR [HOSTNAME]
# Writes DIR/portal.crt and DIR/portal.key, the files the stack's nginx mounts.
set -euo pipefail
dir="${1:?usage: scripts/self_signed_cert.sh DIR [HOSTNAME]}"
name="${2:-localhost}"
mkdir -p "$dir"
openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=$name" \
  -addext "subjectAltName=DNS:$name,DNS:localhost,IP:127.0.0.1" \
  -keyout "$dir/portal.key" -out "$dir/portal.crt" 2>/dev/null
chmod 600 "$dir/portal.key"
echo "$dir/portal.crt $dir/portal.key"
