# Sourced by backup.sh and restore.sh: libpq connection settings from HYGEIA_DATABASE_URL.
# Sets pg_url (the URL without its password, driver postgresql) and exports PGPASSWORD when there is
# one, so the password never appears in argv or output. Needs $python and die() from the caller.
libpq_env=$("$python" - <<'PY'
import os, shlex
from sqlalchemy.engine import make_url
url = make_url(os.environ["HYGEIA_DATABASE_URL"])
print("PGPASSWORD=" + shlex.quote(url.password or ""))
print("pg_url=" + shlex.quote(url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)))
PY
) || die "cannot parse HYGEIA_DATABASE_URL"
eval "$libpq_env"
[[ -n $PGPASSWORD ]] && export PGPASSWORD || unset PGPASSWORD
