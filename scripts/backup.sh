#!/usr/bin/env bash
# Back up a Hygeia deployment: PostgreSQL (pg_dump custom format), the registered model copies
# (var/registry/) and every blob (uploads, job files) from the configured store, local or S3
# (`hygeia maintenance export-blobs`), plus a manifest with the alembic
# revision and the sha256 of each part. Derived data (var/evidence/ index) is not backed up: rebuild it.
set -euo pipefail

usage() {
    cat <<'USAGE'
usage: scripts/backup.sh DEST_DIR

Writes DEST_DIR/{database.dump,registry.tar,blobs.tar,manifest.json}; DEST_DIR must not exist yet.
Reads HYGEIA_DATABASE_URL (PostgreSQL, SQLAlchemy form postgresql+psycopg://... is accepted) and
HYGEIA_VAR_DIR (default: var) and the blob store settings (HYGEIA_BLOB_*, HYGEIA_S3_*). HYGEIA_PYTHON names a Python with hygeia installed (default: python3).
Restore with scripts/restore.sh DEST_DIR.
USAGE
}

die() { echo "backup: $*" >&2; exit 1; }

if [[ $# -eq 1 && ($1 == -h || $1 == --help) ]]; then usage; exit 0; fi
if [[ $# -ne 1 ]]; then usage >&2; exit 2; fi
dest=$1
[[ -e $dest ]] && die "$dest already exists; give a new folder"
[[ -n ${HYGEIA_DATABASE_URL:-} ]] || die "HYGEIA_DATABASE_URL is not set (SQLite deployments: see docs/operations.md)"
[[ $HYGEIA_DATABASE_URL == postgresql* ]] || die "HYGEIA_DATABASE_URL is not a PostgreSQL URL"
python=${HYGEIA_PYTHON:-python3}
var_dir=${HYGEIA_VAR_DIR:-var}
[[ -d $var_dir ]] || die "var dir $var_dir does not exist"
var_dir=$(cd "$var_dir" && pwd -P)

# libpq connection from the SQLAlchemy URL; the password goes to PGPASSWORD, never argv or output
# shellcheck source=scripts/pg_connection.sh
source "$(dirname "${BASH_SOURCE[0]}")/pg_connection.sh"

work="$dest.partial"
rm -rf -- "$work"
mkdir -p -- "$work"
trap 'rm -rf -- "$work"' EXIT

revision=$(psql --no-psqlrc --quiet --tuples-only --no-align --dbname="$pg_url" \
    --command="SELECT string_agg(version_num, ',' ORDER BY version_num) FROM alembic_version") \
    || die "cannot read the alembic revision (is the database migrated and reachable?)"
[[ -n $revision ]] || die "the database has no alembic revision; run hygeia db upgrade first"

pg_dump --format=custom --no-password --file="$work/database.dump" --dbname="$pg_url" \
    || die "pg_dump failed"

# a part is always written, empty when the folder does not exist, so restore can insist on all of them
if [[ -d $var_dir/registry ]]; then
    tar --create --file="$work/registry.tar" --directory="$var_dir" -- registry
else
    tar --create --file="$work/registry.tar" --files-from=/dev/null
fi
HYGEIA_VAR_DIR=$var_dir "$python" -m hygeia.cli maintenance export-blobs "$work/blobs.tar" >/dev/null \
    || die "cannot export the blobs (is the blob store reachable?)"

created_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
(
    cd "$work"
    CREATED_AT=$created_at REVISION=$revision SOURCE_VAR_DIR=$var_dir "$python" - <<'PY'
import hashlib, json, os
parts = {}
for name in ("database.dump", "registry.tar", "blobs.tar"):
    digest = hashlib.sha256()
    with open(name, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    parts[name] = digest.hexdigest()
manifest = {
    "format": "hygeia-backup/1",
    "created_at": os.environ["CREATED_AT"],
    "alembic_revision": os.environ["REVISION"],
    "source_var_dir": os.environ["SOURCE_VAR_DIR"],
    "parts": parts,
}
with open("manifest.json", "w") as handle:
    json.dump(manifest, handle, indent=2)
    handle.write("\n")
PY
)
mv -- "$work" "$dest"
trap - EXIT
echo "backup written to $dest (alembic revision $revision)"
