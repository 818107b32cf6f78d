#!/usr/bin/env bash
# Local PostgreSQL test server: its own cluster (not Debian's default one), 127.0.0.1 only.
#   deploy/stack/postgres.sh up|down|status
# Env: GRADOPS_PG_PORT (55432), GRADOPS_LOG_DIR (<repo>/.stack/logs).
# The cluster lives at /var/lib/postgresql/gradops-<port>, owned by the postgres OS user: initdb and
# postgres refuse to run as root, and the postgres user cannot enter a repo cloned into a root-only
# (0700) temp dir, as CI does. One cluster per port, shared by every checkout on this machine.
# `down` stops the cluster only from the checkout whose `up` started it: `up` records the postmaster's
# pid in <state dir>/postgres.owner (GRADOPS_STATE_DIR, default <repo>/.stack) and the checkout in
# /var/lib/postgresql/gradops-<port>.owner; another checkout's `down` leaves it running and says whose
# it is. GRADOPS_PG_FORCE_DOWN=1 stops it whoever started it.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
PORT="${GRADOPS_PG_PORT:-55432}"
PGDATA="/var/lib/postgresql/gradops-${PORT}"
SERVER_LOG="$PGDATA/postgres.log"
LOG_ROOT="${GRADOPS_LOG_DIR:-$REPO/.stack/logs}"
LOCK_FILE="/var/lib/postgresql/gradops-${PORT}.lock"
CLUSTER_OWNER="/var/lib/postgresql/gradops-${PORT}.owner"
STATE_DIR="${GRADOPS_STATE_DIR:-$REPO/.stack}"
OWNER_FILE="$STATE_DIR/postgres.owner"
DB_USER=gradops
DB_PASSWORD=gradops
DATABASES=(gradops gradops_test)
START_TIMEOUT=60
URL="postgresql+asyncpg://${DB_USER}:${DB_PASSWORD}@127.0.0.1:${PORT}/gradops"

log() { printf 'postgres: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# as the postgres OS user, from / (the caller's cwd may be a dir postgres cannot enter)
as_pg() { (cd / && runuser -u postgres -- "$@"); }

# Binaries: the major the cluster was made with, else the newest installed one.
find_bindir() {
  local v
  if [[ -f "$PGDATA/PG_VERSION" ]]; then
    v="$(cat "$PGDATA/PG_VERSION")"
    [[ -x "/usr/lib/postgresql/$v/bin/postgres" ]] \
      || die "$PGDATA was made by PostgreSQL $v, whose binaries are not installed"
    echo "/usr/lib/postgresql/$v/bin"
    return 0
  fi
  local newest
  newest="$(printf '%s\n' /usr/lib/postgresql/*/bin/postgres | sort -V | tail -n 1)"
  if [[ -x "$newest" ]]; then dirname "$newest"; fi
}

ensure_installed() {
  if ! compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null; then
    log "PostgreSQL not installed: apt-get install postgresql"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql >/dev/null
  fi
  BIN="$(find_bindir)"
  [[ -n "$BIN" && -x "$BIN/postgres" ]] || die "no PostgreSQL binaries under /usr/lib/postgresql"
}

is_ready() { [[ -n "${BIN:-}" ]] && "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -t 2; }

# Settings rewritten on every `up` (included from postgresql.conf), so changes here take effect.
write_conf() {
  cat >"$PGDATA/gradops.conf" <<EOF
# written by deploy/stack/postgres.sh on every up; do not edit
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$PGDATA'
max_connections = 200
shared_buffers = 128MB
# test server: durability traded for speed
fsync = off
synchronous_commit = off
full_page_writes = off
password_encryption = 'scram-sha-256'
logging_collector = off
log_min_messages = warning
log_line_prefix = '%m [%p] %q%u@%d '
EOF
  chown postgres:postgres "$PGDATA/gradops.conf"
}

ensure_cluster() {
  if [[ ! -f "$PGDATA/PG_VERSION" ]]; then
    log "initdb $PGDATA"
    install -d -o postgres -g postgres -m 0700 "$PGDATA"
    # peer auth on the unix socket (for this script), scram over TCP (for the app and tests)
    as_pg "$BIN/initdb" -D "$PGDATA" -U postgres -E UTF8 --no-locale \
      --auth-local=peer --auth-host=scram-sha-256 >/dev/null
    echo "include 'gradops.conf'" >>"$PGDATA/postgresql.conf"
  fi
  write_conf
}

fail_start() {
  log "ERROR: $*"
  log "---- tail of $SERVER_LOG"
  tail -n 40 "$SERVER_LOG" >&2 || true
  exit 1
}

start_server() {
  log "starting cluster $PGDATA on 127.0.0.1:$PORT"
  # -w: returns once the postmaster accepts connections, or at once if it dies.
  # fd 9 (our lock) must not be inherited by the postmaster.
  as_pg "$BIN/pg_ctl" start -D "$PGDATA" -l "$SERVER_LOG" -w -t "$START_TIMEOUT" >/dev/null 9>&-
}

pg_running() { as_pg "$BIN/pg_ctl" status -D "$PGDATA" >/dev/null 2>&1; }

# Start if stopped, wait if starting. After a crash the dead postmaster stays a zombie and its
# children hold the port for a few seconds, so a failed start is retried a few times.
start_and_wait() {
  local deadline=$((SECONDS + START_TIMEOUT)) tries=0
  until is_ready; do
    ((SECONDS < deadline)) || fail_start "not ready on 127.0.0.1:$PORT after ${START_TIMEOUT}s"
    if ! pg_running; then
      ((tries++ < 5)) || fail_start "pg_ctl start failed $tries times"
      start_server || sleep 1
    fi
    sleep 0.2
  done
}

# Role and databases, idempotently, as the superuser over the data dir's unix socket.
provision() {
  local db
  as_pg "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGDATA" -p "$PORT" -U postgres -d postgres <<EOF
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${DB_USER}') THEN
    CREATE ROLE ${DB_USER} LOGIN CREATEDB PASSWORD '${DB_PASSWORD}';
  ELSE
    -- keep the documented credentials working even if a test changed them
    ALTER ROLE ${DB_USER} LOGIN CREATEDB PASSWORD '${DB_PASSWORD}';
  END IF;
END
\$\$;
EOF
  for db in "${DATABASES[@]}"; do
    as_pg "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGDATA" -p "$PORT" -U postgres -d postgres <<EOF
SELECT 'CREATE DATABASE ${db} OWNER ${DB_USER}'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '${db}')
\gexec
EOF
  done
}

postmaster_pid() { head -n 1 "$PGDATA/postmaster.pid" 2>/dev/null || true; }

# This checkout started the running postmaster: its recorded pid is the one in postmaster.pid.
owned_here() {
  local pid
  pid="$(postmaster_pid)"
  [[ -n "$pid" && -f "$OWNER_FILE" && "$(cat "$OWNER_FILE")" == "$pid" ]]
}

record_owner() {
  mkdir -p "$STATE_DIR"
  postmaster_pid >"$OWNER_FILE"
  printf '%s\n' "$REPO" >"$CLUSTER_OWNER"
}

owner_checkout() { cat "$CLUSTER_OWNER" 2>/dev/null || echo "another checkout or by hand"; }

link_log() {
  mkdir -p "$LOG_ROOT"
  ln -sfn "$SERVER_LOG" "$LOG_ROOT/postgres.log"
}

cmd_up() {
  ensure_installed
  [[ -d /var/lib/postgresql ]] || install -d -o postgres -g postgres /var/lib/postgresql
  # serialise concurrent `up`s for this port
  exec 9>"$LOCK_FILE"
  flock 9
  if is_ready; then
    if owned_here; then
      log "already running on 127.0.0.1:$PORT (started by this checkout)"
    else
      log "already running on 127.0.0.1:$PORT, started by $(owner_checkout): reused; this checkout's" \
        "down leaves it running"
    fi
  else
    ensure_cluster
    start_and_wait
    record_owner
  fi
  provision
  link_log
  log "ready on 127.0.0.1:$PORT (data $PGDATA, log $SERVER_LOG)"
  echo "$URL"
}

cmd_down() {
  BIN="$(find_bindir)"
  if [[ -z "$BIN" || ! -f "$PGDATA/postmaster.pid" ]]; then
    log "not running"
    return 0
  fi
  if ! as_pg "$BIN/pg_ctl" status -D "$PGDATA" >/dev/null 2>&1; then
    rm -f "$OWNER_FILE"
    log "not running"
    return 0
  fi
  if ! owned_here && [[ "${GRADOPS_PG_FORCE_DOWN:-}" != 1 ]]; then
    rm -f "$OWNER_FILE" # a pid from an earlier cluster of ours, if any, is stale
    log "127.0.0.1:$PORT runs a cluster this checkout did not start (started by $(owner_checkout));" \
      "left running (GRADOPS_PG_FORCE_DOWN=1 stops it anyway)"
    return 0
  fi
  as_pg "$BIN/pg_ctl" stop -D "$PGDATA" -m fast -w -t 60 >/dev/null
  rm -f "$OWNER_FILE" "$CLUSTER_OWNER"
  log "stopped"
}

cmd_status() {
  BIN="$(find_bindir)"
  if is_ready; then
    echo "postgres: ready on 127.0.0.1:$PORT ($URL)"
    return 0
  fi
  echo "postgres: not ready on 127.0.0.1:$PORT"
  return 1
}

# runuser (initdb/postgres refuse root) and apt-get need root
[[ "$(id -u)" -eq 0 ]] || die "must run as root"

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 up|down|status" >&2
    exit 2
    ;;
esac
