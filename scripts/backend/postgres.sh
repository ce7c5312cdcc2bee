#!/usr/bin/env bash
# A private PostgreSQL for Pulumi state (the CLI's self-managed `postgres://` backend), like the fleet: Debian's
# postgresql package, our own cluster (initdb) listening on 127.0.0.1 only, run by the postgres user with pg_ctl.
#
#   postgres.sh install  only install Debian's postgresql when missing (for setup; start does it too)
#   postgres.sh start    install if missing, init once, start if stopped, database + user ready (fast when up)
#   postgres.sh stop     stop the cluster (the data stays; `start` brings the same state back)
#   postgres.sh status   running or not, where, on which port; exit 0 only when it answers
#   postgres.sh url      the backend URL for PULUMI_BACKEND_URL / `pulumi login` (no password in it: the password
#                        is in a 0600 pgpass file the URL names with `passfile=`); --with-password inlines it
#   postgres.sh psql     psql on the state database as its owner (arguments passed on), e.g. -c 'select ...'
#   postgres.sh destroy  stop and delete the cluster and its password (all stack state in it is lost)
#
# Environment: HDH_PG_HOME (default .state/postgres in the clone), HDH_PG_PORT (default 25432; if that port is
# taken by something else at first start, the next free port is used and remembered), HDH_PG_DB / HDH_PG_USER
# (default hdh_pulumi / hdh). Stack state goes in table pulumi_state, created by the CLI at first login.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PGH=${HDH_PG_HOME:-$ROOT/.state/postgres}
DATA="$PGH/data"       # owned by postgres, 0700
RUN="$PGH/run"         # the unix socket (admin only), owned by postgres, 0700
LOG="$PGH/postgres.log"
PASSFILE="$PGH/pgpass" # host:port:db:user:password, root 0600 (read by the CLI's lib/pq and by psql)
PORTFILE="$PGH/port"
DB=${HDH_PG_DB:-hdh_pulumi}
DBUSER=${HDH_PG_USER:-hdh}

fail() { echo "postgres: $1: $2" >&2; exit 1; }
say() { echo "postgres: $*" >&2; }

pg_bin() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
  done
  return 1
}

install_postgres() {
  pg_bin >/dev/null && return 0
  [ "$(id -u)" = 0 ] || fail install "Debian's postgresql is not installed and installing it needs root"
  say "apt-get install postgresql"
  export DEBIAN_FRONTEND=noninteractive
  # policy-rc.d keeps Debian from starting its machine-wide cluster on 5432: we run our own.
  local ours=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; ours=1
  fi
  if ! apt-get install -y -qq --no-install-recommends postgresql >/dev/null 2>&1; then
    apt-get update -qq >/dev/null 2>&1 || true
    apt-get install -y -qq --no-install-recommends postgresql >/dev/null \
      || { [ $ours = 1 ] && rm -f /usr/sbin/policy-rc.d; fail install "apt-get install postgresql failed"; }
  fi
  [ $ours = 1 ] && rm -f /usr/sbin/policy-rc.d
  pg_bin >/dev/null || fail install "postgresql installed but no initdb/pg_ctl under /usr/lib/postgresql/*/bin"
}

as_pg() { runuser -u postgres -- "$@"; }

# Below Linux's range of ephemeral ports (32768-60999): a port in it can be held at any moment by some outgoing
# connection, which no "is it free?" check sees and which makes the server's bind fail.
DEFAULT_PORT=25432
port() { cat "$PORTFILE" 2>/dev/null || echo "${HDH_PG_PORT:-$DEFAULT_PORT}"; }

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

running() {
  local bin; bin=$(pg_bin) || return 1
  [ -f "$DATA/PG_VERSION" ] && as_pg "$bin/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

answers() { local bin; bin=$(pg_bin) && "$bin/pg_isready" -q -h 127.0.0.1 -p "$(port)" -t 3; }

admin_psql() { as_pg "$(pg_bin)/psql" -X -q -v ON_ERROR_STOP=1 -h "$RUN" -p "$(port)" -U postgres -d postgres "$@"; }

init_cluster() {
  local bin; bin=$(pg_bin)
  getent passwd postgres >/dev/null || fail init "no postgres user (the postgresql package makes it)"
  # The postgres user must be able to reach the data folder (every parent searchable).
  mkdir -p "$PGH"; chmod 0711 "$PGH"
  as_pg test -x "$PGH" || fail init "$PGH is not reachable by the postgres user (a parent lacks o+x; set HDH_PG_HOME)"
  local p=${HDH_PG_PORT:-$DEFAULT_PORT}
  if [ -z "${HDH_PG_PORT:-}" ]; then while port_busy "$p"; do p=$((p + 1)); done
  elif port_busy "$p"; then fail init "port $p (HDH_PG_PORT) is already in use"; fi
  echo "$p" > "$PORTFILE"
  rm -rf "$DATA" "$RUN"
  install -d -o postgres -g postgres -m 0700 "$DATA" "$RUN"
  say "initdb $DATA (port $p)"
  as_pg "$bin/initdb" -D "$DATA" -U postgres --encoding=UTF8 --locale=C.UTF-8 --auth-local=peer \
    --auth-host=scram-sha-256 >"$PGH/initdb.log" 2>&1 || { tail -5 "$PGH/initdb.log" >&2; fail init "initdb failed"; }
  cat >> "$DATA/postgresql.conf" <<EOF

# hardened-docker-host: a private cluster for Pulumi state, reachable from this machine only.
listen_addresses = '127.0.0.1'
port = $p
unix_socket_directories = '$RUN'
max_connections = 60
shared_buffers = 32MB
password_encryption = scram-sha-256
EOF
  # Admin over the private socket as the postgres OS user; everyone else by password over 127.0.0.1 only.
  printf 'local all postgres peer\nhost %s %s 127.0.0.1/32 scram-sha-256\n' "$DB" "$DBUSER" > "$DATA/pg_hba.conf"
  chown postgres:postgres "$DATA/pg_hba.conf"
  rm -f "$PGH/ready"
}

ensure_db() {
  [ -f "$PGH/ready" ] && [ -s "$PASSFILE" ] && return 0
  local pw p; p=$(port)
  if [ -s "$PASSFILE" ]; then pw=$(cut -d: -f5- "$PASSFILE")
  else pw=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'); fi
  # The password goes to psql on stdin (never on a command line) and to the 0600 pgpass file.
  if [ "$(admin_psql -tAc "select 1 from pg_roles where rolname = '$DBUSER'")" = 1 ]; then
    printf "ALTER ROLE %s WITH LOGIN PASSWORD '%s';\n" "$DBUSER" "$pw" | admin_psql >/dev/null
  else
    printf "CREATE ROLE %s WITH LOGIN PASSWORD '%s';\n" "$DBUSER" "$pw" | admin_psql >/dev/null
  fi
  [ "$(admin_psql -tAc "select 1 from pg_database where datname = '$DB'")" = 1 ] \
    || admin_psql -c "CREATE DATABASE $DB OWNER $DBUSER" >/dev/null
  admin_psql -c "REVOKE ALL ON DATABASE $DB FROM PUBLIC" >/dev/null
  (umask 077; printf '127.0.0.1:%s:%s:%s:%s\n' "$p" "$DB" "$DBUSER" "$pw" > "$PASSFILE.tmp")
  chmod 0600 "$PASSFILE.tmp"; mv "$PASSFILE.tmp" "$PASSFILE"
  touch "$PGH/ready"
}

start() {
  # Fast path: already up and set up.
  if [ -f "$PGH/ready" ] && running && answers; then return 0; fi
  [ "$(id -u)" = 0 ] || fail start "needs root (the cluster runs as the postgres user)"
  install_postgres
  mkdir -p "$PGH"
  exec 9>"$PGH/.lock"; flock -w 120 9 || fail start "another postgres.sh holds $PGH/.lock"
  local bin; bin=$(pg_bin)
  [ -f "$DATA/PG_VERSION" ] || init_cluster
  if ! running; then
    say "starting on 127.0.0.1:$(port)"
    touch "$LOG"; chown postgres:postgres "$LOG"; chmod 0600 "$LOG"
    as_pg "$bin/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >/dev/null \
      || { tail -5 "$LOG" >&2; fail start "pg_ctl start failed (log: $LOG)"; }
  fi
  for _ in $(seq 1 50); do answers && break; sleep 0.2; done
  answers || fail start "the cluster does not answer on 127.0.0.1:$(port) (log: $LOG)"
  ensure_db
}

stop() {
  running || { say "not running"; return 0; }
  as_pg "$(pg_bin)/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >/dev/null || fail stop "pg_ctl stop failed (log: $LOG)"
  say "stopped"
}

url() {
  [ -s "$PASSFILE" ] || fail url "not set up yet: run scripts/backend/postgres.sh start"
  local p; p=$(port)
  if [ "${1:-}" = --with-password ]; then
    printf 'postgres://%s:%s@127.0.0.1:%s/%s?sslmode=disable\n' "$DBUSER" "$(cut -d: -f5- "$PASSFILE")" "$p" "$DB"
  else
    printf 'postgres://%s@127.0.0.1:%s/%s?sslmode=disable&passfile=%s\n' "$DBUSER" "$p" "$DB" "$PASSFILE"
  fi
}

status() {
  if running && answers; then
    echo "postgres: running on 127.0.0.1:$(port), data $DATA, database $DB, user $DBUSER"
  elif [ -f "$DATA/PG_VERSION" ]; then
    echo "postgres: stopped (data $DATA, port $(port))"; return 3
  else
    echo "postgres: not initialised ($PGH)"; return 3
  fi
}

case "${1:-}" in
  install) install_postgres ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  url) shift; url "$@" ;;
  psql) shift; start; PGPASSFILE="$PASSFILE" "$(pg_bin)/psql" -X -h 127.0.0.1 -p "$(port)" -U "$DBUSER" -d "$DB" "$@" ;;
  destroy) stop; rm -rf "$PGH"; say "removed $PGH" ;;
  *) fail usage "postgres.sh install|start|stop|status|url [--with-password]|psql [args]|destroy" ;;
esac
