#!/usr/bin/env bash
# Restore a backup written by scripts/backup.sh into a fresh PostgreSQL database and var dir:
# verify every part against the manifest, pg_restore, unpack var/registry, load the blobs into the
# configured store (local or S3; `hygeia maintenance import-blobs`), point the
# registry rows of copied models at the new var dir, then run the migrations (a no-op at head).
set -euo pipefail

usage() {
    cat <<'USAGE'
usage: scripts/restore.sh BACKUP_DIR

Restores BACKUP_DIR (from scripts/backup.sh) into HYGEIA_DATABASE_URL (an existing, empty or
disposable PostgreSQL database: objects in the dump are dropped and recreated) and HYGEIA_VAR_DIR
(default: var; its registry/ must be absent or empty) and the blob store its settings name
(HYGEIA_BLOB_*, HYGEIA_S3_*; must hold no blobs yet). HYGEIA_PYTHON names a Python
with hygeia installed (default: python3). Refuses, changing nothing, when a part is missing or its
sha256 differs from the manifest. Afterwards rebuild derived data: hygeia evidence build.
USAGE
}

die() { echo "restore: $*" >&2; exit 1; }

if [[ $# -eq 1 && ($1 == -h || $1 == --help) ]]; then usage; exit 0; fi
if [[ $# -ne 1 ]]; then usage >&2; exit 2; fi
backup=$1
[[ -d $backup ]] || die "$backup is not a folder"
[[ -f $backup/manifest.json ]] || die "$backup/manifest.json is missing; not a backup or an incomplete one"
[[ -n ${HYGEIA_DATABASE_URL:-} ]] || die "HYGEIA_DATABASE_URL is not set"
[[ $HYGEIA_DATABASE_URL == postgresql* ]] || die "HYGEIA_DATABASE_URL is not a PostgreSQL URL"
python=${HYGEIA_PYTHON:-python3}
var_dir=${HYGEIA_VAR_DIR:-var}

# every part present and matching its sha256, before anything is changed
checked=$(cd "$backup" && "$python" - <<'PY'
import hashlib, json, os, shlex, sys
try:
    manifest = json.load(open("manifest.json"))
    parts = manifest["parts"]
    revision, source = manifest["alembic_revision"], manifest["source_var_dir"]
except (ValueError, KeyError, TypeError) as exc:
    sys.exit(f"restore: manifest.json is unreadable ({type(exc).__name__}); refusing")
expected = ("database.dump", "registry.tar", "blobs.tar")
for name in expected:
    if name not in parts:
        sys.exit(f"restore: manifest.json lists no {name}; refusing")
    if not os.path.isfile(name):
        sys.exit(f"restore: part {name} is missing from the backup; refusing")
    digest = hashlib.sha256()
    with open(name, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != parts[name]:
        sys.exit(
            f"restore: part {name} has sha256 {digest.hexdigest()[:12]}..., manifest says "
            f"{str(parts[name])[:12]}...: the backup was modified or truncated; refusing"
        )
print("revision=" + shlex.quote(revision))
print("source_var_dir=" + shlex.quote(source))
PY
) || exit 1
eval "$checked"

if [[ -d $var_dir/registry ]] && [[ -n $(ls -A -- "$var_dir/registry") ]]; then
    die "$var_dir/registry is not empty; restore into fresh storage (move it aside first)"
fi
HYGEIA_VAR_DIR=$var_dir "$python" -c 'import sys
from hygeia.core.blobs import ALL_BLOBS, get_blob_store
sys.exit(next(iter(get_blob_store().list(ALL_BLOBS)), None) is not None)' \
    || die "the blob store is not empty or not reachable; restore into fresh storage"

# libpq connection from the SQLAlchemy URL; the password goes to PGPASSWORD, never argv or output
# shellcheck source=scripts/pg_connection.sh
source "$(dirname "${BASH_SOURCE[0]}")/pg_connection.sh"

pg_restore --clean --if-exists --no-owner --no-password --single-transaction --exit-on-error \
    --dbname="$pg_url" "$backup/database.dump" || die "pg_restore failed; the database is unchanged"

restored=$(psql --no-psqlrc --quiet --tuples-only --no-align --dbname="$pg_url" \
    --command="SELECT string_agg(version_num, ',' ORDER BY version_num) FROM alembic_version") \
    || die "cannot read the restored alembic revision"
[[ $restored == "$revision" ]] || die "restored alembic revision $restored differs from the manifest's $revision"

mkdir -p -- "$var_dir"
var_dir=$(cd "$var_dir" && pwd -P)
tar --extract --no-same-owner --file="$backup/registry.tar" --directory="$var_dir" \
    || die "unpacking registry.tar failed"
HYGEIA_VAR_DIR=$var_dir "$python" -m hygeia.cli maintenance import-blobs "$backup/blobs.tar" >/dev/null \
    || die "loading blobs.tar into the blob store failed"

# models registered with --copy are recorded by absolute path under the old var dir
psql --no-psqlrc --quiet --no-password --set=ON_ERROR_STOP=1 --dbname="$pg_url" \
    --set=old="$source_var_dir/registry/" --set=new="$var_dir/registry/" >/dev/null <<'SQL' \
    || die "cannot point the registry rows at $var_dir/registry"
UPDATE model_versions SET path = :'new' || substr(path, length(:'old') + 1)
WHERE left(path, length(:'old')) = :'old';
SQL

"$python" -m hygeia.cli db upgrade >/dev/null || die "hygeia db upgrade failed after the restore"
echo "restored $backup (alembic revision $revision) into the database and $var_dir"
echo "next: hygeia models list; POST /api/v1/jobs {\"kind\": \"registry.verify\"}; hygeia evidence build"
