#!/usr/bin/env bash
# scripts/services.sh — the test servers for loginkit's own tests.
#
#   scripts/services.sh start [SERVICE...]   install what is missing, start, print exports
#   scripts/services.sh stop  [SERVICE...]   stop what this script started (by PID)
#   scripts/services.sh env                  print `export LOGINKIT_...=...` lines
#   scripts/services.sh status               say what is running
#   scripts/services.sh running              list the servers running, one a line
#
# SERVICE is one of postgres, redis, ferretdb, mailpit, chromium (default: all).
#
# Each server listens on 127.0.0.1 on a fixed port below the ephemeral range:
# PostgreSQL 15432, Redis 16379, FerretDB (MongoDB wire protocol) 17017,
# Mailpit (an SMTP server that keeps what it receives) SMTP 11025 and its
# HTTP API 18025. Chromium is only installed; the browser tests start it
# themselves.
#
# When LOGINKIT_POSTGRES_URL, LOGINKIT_REDIS_URL, LOGINKIT_MONGO_URL,
# LOGINKIT_SMTP_URL or LOGINKIT_CHROMIUM is already set, that server is used
# as it is and nothing is installed or started for it. Otherwise the missing Debian packages are
# installed with apt-get (through sudo when not root) and the server is started
# with its state in ${LOGINKIT_SERVICES_DIR:-/tmp/loginkit-services}.
#
# `start` is idempotent: a server already running from this state directory is
# left alone; stale PID files and state from an earlier run (a crash, a reboot)
# are cleared and the server is set up afresh. `stop` only stops processes
# whose PID this script recorded, and checks the PID still belongs to the
# program it started. Progress goes to stderr; `start` and `env` write only the
# export lines to stdout, so `eval "$(scripts/services.sh start)"` works.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=${LOGINKIT_SERVICES_DIR:-/tmp/loginkit-services}
PG_PORT=15432
REDIS_PORT=16379
FERRET_PORT=17017
PG_PASSWORD=loginkit
FERRET_VERSION=v1.24.0
FERRET_SRC=$ROOT/tools/ferretdb
FERRET_CACHE=${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/loginkit
FERRET_BIN=$FERRET_CACHE/ferretdb-$FERRET_VERSION
SMTP_PORT=11025
MAILPIT_HTTP_PORT=18025
MAILPIT_VERSION=v1.27.11
MAILPIT_BIN=$FERRET_CACHE/mailpit-$MAILPIT_VERSION

PG_CREATECLUSTER=/etc/postgresql-common/createcluster.conf
PG_DIR=$STATE/postgres # owned by the postgres user when run as root
PG_DATA=$PG_DIR/data
PG_SOCK=$PG_DIR # unix socket directory
PG_LOG=$STATE/postgres.log
PG_PIDFILE=$STATE/postgres.pid
REDIS_DIR=$STATE/redis
REDIS_PIDFILE=$STATE/redis.pid
REDIS_LOG=$STATE/redis.log
FERRET_DIR=$STATE/ferretdb
FERRET_PIDFILE=$STATE/ferretdb.pid
FERRET_LOG=$STATE/ferretdb.log
MAILPIT_DIR=$STATE/mailpit
MAILPIT_PIDFILE=$STATE/mailpit.pid
MAILPIT_LOG=$STATE/mailpit.log

# What the command line of each server we start contains; a PID whose command
# line lacks it is not ours.
REDIS_ID="redis-server 127.0.0.1:$REDIS_PORT"
FERRET_ID="-listen 127.0.0.1:$FERRET_PORT -state-dir $FERRET_DIR"
MAILPIT_ID="--smtp 127.0.0.1:$SMTP_PORT --listen 127.0.0.1:$MAILPIT_HTTP_PORT"

PG_URL="postgres://postgres:$PG_PASSWORD@127.0.0.1:$PG_PORT/postgres?sslmode=disable"
REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
MONGO_URL="mongodb://127.0.0.1:$FERRET_PORT/"
SMTP_URL="smtp://127.0.0.1:$SMTP_PORT"
MAILPIT_URL="http://127.0.0.1:$MAILPIT_HTTP_PORT"
CHROMIUM_BIN=/usr/bin/chromium

ALL_SERVICES=(postgres redis ferretdb mailpit chromium)

log() { printf 'services: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }
is_root() { [ "$(id -u)" = 0 ]; }
as_root() { if is_root; then "$@"; else sudo "$@"; fi; }

# ---------------------------------------------------------------- apt

APT_UPDATED=0

apt_update() {
	[ "$APT_UPDATED" = 1 ] && return 0
	log "apt-get update"
	local t; t=$(now)
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 || return 1
	APT_UPDATED=1
	log "apt-get update took $(since "$t")"
}

# apt_has_candidates reports whether apt knows an installable version of
# every named package (false on a machine whose package lists are empty).
apt_has_candidates() {
	local p c
	for p in "$@"; do
		c=$(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ { print $2 }')
		if [ -z "$c" ] || [ "$c" = "(none)" ]; then return 1; fi
	done
}

apt_install() {
	command -v apt-get >/dev/null || { log "apt-get not found: install $* yourself"; return 1; }
	local t; t=$(now)
	log "apt-get install $*"
	if [ "$APT_UPDATED" = 0 ] && ! apt_has_candidates "$@"; then apt_update || return 1; fi
	if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2; then
		# Stale package lists give 404s; refresh them once and retry.
		[ "$APT_UPDATED" = 1 ] && return 1
		apt_update || return 1
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2 || return 1
	fi
	log "installed $* in $(since "$t")"
}

# ---------------------------------------------------------------- processes

# pid_is PIDFILE PATTERN: the PID recorded in PIDFILE is alive and its
# command line contains PATTERN (a fixed string).
pid_is() {
	local pidfile=$1 name=$2 pid
	[ -s "$pidfile" ] || return 1
	pid=$(head -n1 "$pidfile" | tr -dc 0-9)
	[ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$name"
}

pid_of() { head -n1 "$1" | tr -dc 0-9; }

# stop_pid PIDFILE PATTERN LABEL: SIGTERM the recorded process if it is still ours,
# wait for it to exit (SIGKILL after 15 s), and remove the PID file.
stop_pid() {
	local pidfile=$1 name=$2 label=$3 pid i
	if pid_is "$pidfile" "$name"; then
		pid=$(pid_of "$pidfile")
		kill -TERM "$pid" 2>/dev/null
		for ((i = 0; i < 150; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			log "$label (pid $pid) did not exit after SIGTERM; sending SIGKILL"
			kill -KILL "$pid" 2>/dev/null
		fi
		log "stopped $label (pid $pid)"
	fi
	rm -f "$pidfile"
}

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
	local n=$(($1 * 10)) i
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# Redis, FerretDB and Mailpit start the same way: a server this script
# started that still answers is left alone; otherwise whatever its PID file
# records of an earlier run is stopped, its ports must be free, and it
# starts afresh in an empty state directory.

# still_running NAME PIDFILE ID READY WHERE: the server recorded in PIDFILE
# is ours and READY (a command) says it answers; says so in the log.
still_running() {
	local name=$1 pidfile=$2 id=$3 ready=$4 where=$5
	pid_is "$pidfile" "$id" && "$ready" || return 1
	log "$name: already running (pid $(pid_of "$pidfile")) on $where"
}

# start_afresh NAME PIDFILE ID DIR PORT...: stop what PIDFILE records of an
# earlier run, check that no other process holds one of the PORTs, and
# empty DIR.
start_afresh() {
	local name=$1 pidfile=$2 id=$3 dir=$4 port
	shift 4
	stop_pid "$pidfile" "$id" "$name"
	for port in "$@"; do
		if port_open "$port"; then
			log "$name: port $port is taken by a process this script did not start"
			return 1
		fi
	done
	rm -rf "$dir"
	mkdir -p "$dir"
}

# spawn NAME PIDFILE ID LOG READY CMD...: run CMD in a session of its own
# (setsid: it outlives this script and ignores its terminal), record its
# PID in PIDFILE and wait up to 60 s for READY; when the server does not
# answer, show the end of LOG and stop it.
spawn() {
	local name=$1 pidfile=$2 id=$3 logfile=$4 ready=$5
	shift 5
	setsid "$@" </dev/null >"$logfile" 2>&1 9>&- &
	echo $! >"$pidfile"
	if ! wait_for 60 "$ready"; then
		log "$name: no answer in 60 s:"; tail -n 20 "$logfile" >&2
		stop_pid "$pidfile" "$id" "$name"
		return 1
	fi
}

# ---------------------------------------------------------------- postgres

pg_bindir() {
	local d
	if command -v pg_config >/dev/null; then
		d=$(pg_config --bindir 2>/dev/null)
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
	fi
	for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r); do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
	done
	return 1
}

# as_pg CMD...: run CMD as the user owning the cluster (postgres when root).
as_pg() {
	if is_root; then
		(cd / && runuser -u postgres -- "$@")
	else
		(cd / && "$@")
	fi
}

install_postgres() {
	pg_bindir >/dev/null && return 0
	local t; t=$(now)
	# postgresql-common first, so the server package creates no cluster of
	# its own (and starts none).
	apt_install postgresql-common || return 1
	local conf=$PG_CREATECLUSTER
	if grep -Eq '^[#[:space:]]*create_main_cluster' "$conf" 2>/dev/null; then
		as_root sed -i -E 's/^[#[:space:]]*create_main_cluster.*/create_main_cluster = false/' "$conf"
	else
		echo 'create_main_cluster = false' | as_root tee -a "$conf" >/dev/null
	fi
	apt_install postgresql || return 1
	log "postgres: installed in $(since "$t")"
	pg_bindir >/dev/null
}

# pg_running: the postmaster recorded in our data directory is alive and is
# really that postmaster (after a reboot the PID may belong to anything).
# A stale postmaster.pid is removed so that it cannot mislead pg_ctl.
pg_running() {
	local bin=$1
	[ -f "$PG_DATA/postmaster.pid" ] || return 1
	if ! pid_is "$PG_DATA/postmaster.pid" "postgres -D $PG_DATA "; then
		rm -f "$PG_DATA/postmaster.pid"
		return 1
	fi
	as_pg "$bin/pg_ctl" status -D "$PG_DATA" >/dev/null 2>&1
}

start_postgres() {
	if [ -n "${LOGINKIT_POSTGRES_URL:-}" ]; then log "postgres: using LOGINKIT_POSTGRES_URL"; return 0; fi
	install_postgres || { log "postgres: install failed"; return 1; }
	local bin t
	bin=$(pg_bindir) || return 1
	if pg_running "$bin" && port_open "$PG_PORT"; then
		log "postgres: already running (pid $(pid_of "$PG_DATA/postmaster.pid")) on port $PG_PORT"
		pid_of "$PG_DATA/postmaster.pid" >"$PG_PIDFILE"
		return 0
	fi
	if port_open "$PG_PORT"; then
		log "postgres: port $PG_PORT is taken by a process this script did not start"
		return 1
	fi
	if pg_running "$bin"; then stop_postgres; fi
	# Not running: whatever is left (a crash, a reboot, fsync=off) is not to
	# be trusted. Start from a fresh cluster; it takes about a second.
	t=$(now)
	rm -rf "$PG_DIR" "$PG_PIDFILE"
	mkdir -p "$PG_DIR" || return 1
	chmod 755 "$STATE"
	chmod 700 "$PG_DIR"
	local pwfile=$PG_DIR/pwfile
	echo "$PG_PASSWORD" >"$pwfile"
	if is_root; then chown -R postgres:postgres "$PG_DIR"; fi
	if ! as_pg "$bin/initdb" -D "$PG_DATA" -U postgres --pwfile="$pwfile" \
		--auth-local=trust --auth-host=scram-sha-256 \
		-E UTF8 --locale=C.UTF-8 --no-sync >"$STATE/initdb.log" 2>&1; then
		log "postgres: initdb failed:"; tail -n 20 "$STATE/initdb.log" >&2
		return 1
	fi
	rm -f "$pwfile"
	: >"$PG_LOG"
	if is_root; then chown postgres:postgres "$PG_LOG"; fi
	if ! as_pg "$bin/pg_ctl" -w -t 60 start -D "$PG_DATA" -l "$PG_LOG" \
		-o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_SOCK -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" >&2 9>&-; then
		log "postgres: pg_ctl start failed:"; tail -n 20 "$PG_LOG" >&2
		return 1
	fi
	pid_of "$PG_DATA/postmaster.pid" >"$PG_PIDFILE"
	log "postgres: started (pid $(pid_of "$PG_PIDFILE")) on 127.0.0.1:$PG_PORT in $(since "$t")"
}

stop_postgres() {
	local bin
	if [ -f "$PG_DATA/postmaster.pid" ] && bin=$(pg_bindir) && pg_running "$bin"; then
		as_pg "$bin/pg_ctl" stop -D "$PG_DATA" -m fast -w >&2 && log "stopped postgres"
	fi
	rm -f "$PG_PIDFILE"
}

# ---------------------------------------------------------------- redis

redis_ping() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

start_redis() {
	if [ -n "${LOGINKIT_REDIS_URL:-}" ]; then log "redis: using LOGINKIT_REDIS_URL"; return 0; fi
	if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
		# The package may start a system redis on 6379; it is not used.
		apt_install redis-server || { log "redis: install failed"; return 1; }
	fi
	still_running redis "$REDIS_PIDFILE" "$REDIS_ID" redis_ping "port $REDIS_PORT" && return 0
	start_afresh redis "$REDIS_PIDFILE" "$REDIS_ID" "$REDIS_DIR" "$REDIS_PORT" || return 1
	local t; t=$(now)
	if ! redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
		--daemonize yes --pidfile "$REDIS_PIDFILE" --dir "$REDIS_DIR" --logfile "$REDIS_LOG" >&2 9>&-; then
		log "redis: redis-server failed"; return 1
	fi
	if ! wait_for 30 redis_ping; then
		log "redis: no answer to PING on port $REDIS_PORT:"; tail -n 20 "$REDIS_LOG" >&2
		return 1
	fi
	log "redis: started (pid $(pid_of "$REDIS_PIDFILE")) on 127.0.0.1:$REDIS_PORT in $(since "$t")"
}

stop_redis() { stop_pid "$REDIS_PIDFILE" "$REDIS_ID" redis; }

# ---------------------------------------------------------------- ferretdb

# binary VAR BUILD PATH: print the server binary the environment names in
# VAR, or else build it with the function BUILD (a no-op when the cached
# build is current) and print PATH, where BUILD puts it.
binary() {
	local var=$1 build=$2 path=$3
	if [ -n "${!var:-}" ]; then echo "${!var}"; return 0; fi
	"$build" >&2 && echo "$path"
}

gocmd() {
	if command -v go >/dev/null; then echo go
	elif [ -x /usr/local/go/bin/go ]; then echo /usr/local/go/bin/go
	else return 1; fi
}

# ferret_key identifies the source of the FerretDB binary: the cached binary
# is rebuilt when it changes.
ferret_key() {
	(cd "$FERRET_SRC" && cat go.mod go.sum ./*.go) | sha256sum | cut -d' ' -f1
}

build_ferretdb() {
	if [ ! -f "$FERRET_SRC/go.mod" ] || [ ! -f "$FERRET_SRC/go.sum" ] || ! ls "$FERRET_SRC"/*.go >/dev/null 2>&1; then
		log "ferretdb: $FERRET_SRC is missing or incomplete"
		return 1
	fi
	local key go t tmp
	key=$(ferret_key)
	if [ -x "$FERRET_BIN" ] && [ "$(cat "$FERRET_BIN.key" 2>/dev/null)" = "$key" ]; then
		return 0
	fi
	go=$(gocmd) || { log "ferretdb: go not found"; return 1; }
	mkdir -p "$FERRET_CACHE" || return 1
	t=$(now)
	log "ferretdb: building $FERRET_VERSION from tools/ferretdb (a cold build takes about 2 minutes)"
	tmp=$(mktemp "$FERRET_BIN.XXXXXX") || return 1
	if ! (cd "$FERRET_SRC" && CGO_ENABLED=0 "$go" build -trimpath -o "$tmp" .) >&2; then
		rm -f "$tmp"
		log "ferretdb: build failed"
		return 1
	fi
	chmod 755 "$tmp"
	mv -f "$tmp" "$FERRET_BIN" && echo "$key" >"$FERRET_BIN.key"
	log "ferretdb: built $FERRET_BIN in $(since "$t")"
}

ferret_ready() { port_open "$FERRET_PORT"; }

start_ferretdb() {
	if [ -n "${LOGINKIT_MONGO_URL:-}" ]; then
		log "ferretdb: using LOGINKIT_MONGO_URL"
		# Tests that run a private server still want the binary.
		binary LOGINKIT_FERRETDB build_ferretdb "$FERRET_BIN" >/dev/null || log "ferretdb: no binary for private servers"
		return 0
	fi
	local bin
	bin=$(binary LOGINKIT_FERRETDB build_ferretdb "$FERRET_BIN") || return 1
	still_running ferretdb "$FERRET_PIDFILE" "$FERRET_ID" ferret_ready "port $FERRET_PORT" && return 0
	start_afresh ferretdb "$FERRET_PIDFILE" "$FERRET_ID" "$FERRET_DIR" "$FERRET_PORT" || return 1
	local t; t=$(now)
	spawn ferretdb "$FERRET_PIDFILE" "$FERRET_ID" "$FERRET_LOG" ferret_ready \
		"$bin" -listen "127.0.0.1:$FERRET_PORT" -state-dir "$FERRET_DIR" || return 1
	log "ferretdb: started (pid $(pid_of "$FERRET_PIDFILE")) on 127.0.0.1:$FERRET_PORT in $(since "$t")"
}

stop_ferretdb() { stop_pid "$FERRET_PIDFILE" "$FERRET_ID" ferretdb; }

# ---------------------------------------------------------------- mailpit

# Mailpit (github.com/axllent/mailpit) is an SMTP server written in Go that
# keeps every message it accepts and serves them over an HTTP API, which the
# mail tests read. It is built from the Go module proxy with `go install` at
# a fixed version (checked against the checksum database) into the cache.
build_mailpit() {
	[ -x "$MAILPIT_BIN" ] && return 0
	local go t tmp
	go=$(gocmd) || { log "mailpit: go not found"; return 1; }
	mkdir -p "$FERRET_CACHE" || return 1
	t=$(now)
	log "mailpit: building $MAILPIT_VERSION with go install (a cold build takes about 1 minute)"
	tmp=$(mktemp -d "$FERRET_CACHE/mailpit-build.XXXXXX") || return 1
	if ! GOBIN=$tmp CGO_ENABLED=0 GOFLAGS=-buildvcs=false "$go" install -trimpath "github.com/axllent/mailpit@$MAILPIT_VERSION" >&2; then
		rm -rf "$tmp"
		log "mailpit: build failed"
		return 1
	fi
	mv -f "$tmp/mailpit" "$MAILPIT_BIN" && rm -rf "$tmp"
	log "mailpit: built $MAILPIT_BIN in $(since "$t")"
}

mailpit_ready() { port_open "$SMTP_PORT" && port_open "$MAILPIT_HTTP_PORT"; }

start_mailpit() {
	if [ -n "${LOGINKIT_SMTP_URL:-}" ]; then
		log "mailpit: using LOGINKIT_SMTP_URL"
		binary LOGINKIT_MAILPIT build_mailpit "$MAILPIT_BIN" >/dev/null || log "mailpit: no binary for private servers"
		return 0
	fi
	local bin
	bin=$(binary LOGINKIT_MAILPIT build_mailpit "$MAILPIT_BIN") || return 1
	still_running mailpit "$MAILPIT_PIDFILE" "$MAILPIT_ID" mailpit_ready "ports $SMTP_PORT and $MAILPIT_HTTP_PORT" && return 0
	start_afresh mailpit "$MAILPIT_PIDFILE" "$MAILPIT_ID" "$MAILPIT_DIR" "$SMTP_PORT" "$MAILPIT_HTTP_PORT" || return 1
	local t; t=$(now)
	# Any user name and password is accepted (AUTH works, also without
	# TLS); the tests that check STARTTLS and refused credentials start a
	# private server of their own.
	spawn mailpit "$MAILPIT_PIDFILE" "$MAILPIT_ID" "$MAILPIT_LOG" mailpit_ready \
		"$bin" --smtp "127.0.0.1:$SMTP_PORT" --listen "127.0.0.1:$MAILPIT_HTTP_PORT" \
		--database "$MAILPIT_DIR/mailpit.db" --max 20000 --disable-version-check \
		--smtp-auth-accept-any --smtp-auth-allow-insecure --smtp-disable-rdns --quiet || return 1
	log "mailpit: started (pid $(pid_of "$MAILPIT_PIDFILE")) on 127.0.0.1:$SMTP_PORT (SMTP) and $MAILPIT_URL (API) in $(since "$t")"
}

stop_mailpit() { stop_pid "$MAILPIT_PIDFILE" "$MAILPIT_ID" mailpit; }

# ---------------------------------------------------------------- chromium

start_chromium() {
	if [ -n "${LOGINKIT_CHROMIUM:-}" ]; then log "chromium: using LOGINKIT_CHROMIUM"; return 0; fi
	if [ ! -x "$CHROMIUM_BIN" ]; then
		apt_install chromium || { log "chromium: install failed"; return 1; }
	fi
	[ -x "$CHROMIUM_BIN" ] || { log "chromium: $CHROMIUM_BIN missing after install"; return 1; }
	log "chromium: $CHROMIUM_BIN"
}

stop_chromium() { :; }

# ---------------------------------------------------------------- commands

# export_line NAME VALUE prints a shell export line, single-quoted.
export_line() { printf "export %s='%s'\n" "$1" "${2//\'/\'\\\'\'}"; }

# Whether each server runs from this script's state directory.
postgres_up() { local bin; bin=$(pg_bindir 2>/dev/null) && pg_running "$bin"; }
redis_up() { pid_is "$REDIS_PIDFILE" "$REDIS_ID"; }
ferretdb_up() { pid_is "$FERRET_PIDFILE" "$FERRET_ID"; }
mailpit_up() { pid_is "$MAILPIT_PIDFILE" "$MAILPIT_ID"; }

# export_env VAR OURS CMD...: an export line for VAR: its value when the
# environment sets it, else OURS when CMD succeeds (this script runs that
# server or has that binary).
export_env() {
	local var=$1 ours=$2
	shift 2
	if [ -n "${!var:-}" ]; then
		export_line "$var" "${!var}"
	elif "$@"; then
		export_line "$var" "$ours"
	fi
}

# print_env writes an export line for each server in use: one given by the
# environment, or one this script runs.
print_env() {
	export_env LOGINKIT_POSTGRES_URL "$PG_URL" postgres_up
	export_env LOGINKIT_REDIS_URL "$REDIS_URL" redis_up
	export_env LOGINKIT_MONGO_URL "$MONGO_URL" ferretdb_up
	export_env LOGINKIT_FERRETDB "$FERRET_BIN" test -x "$FERRET_BIN"
	export_env LOGINKIT_SMTP_URL "$SMTP_URL" mailpit_up
	# The API of the SMTP server the environment names, if it has one, or
	# of the Mailpit this script runs.
	if [ -n "${LOGINKIT_SMTP_URL:-}" ]; then
		[ -z "${LOGINKIT_MAILPIT_URL:-}" ] || export_line LOGINKIT_MAILPIT_URL "$LOGINKIT_MAILPIT_URL"
	elif mailpit_up; then
		export_line LOGINKIT_MAILPIT_URL "$MAILPIT_URL"
	fi
	export_env LOGINKIT_MAILPIT "$MAILPIT_BIN" test -x "$MAILPIT_BIN"
	export_env LOGINKIT_CHROMIUM "$CHROMIUM_BIN" test -x "$CHROMIUM_BIN"
}

status() {
	if postgres_up; then echo "postgres: running on $PG_PORT"; else echo "postgres: stopped"; fi
	if redis_up; then echo "redis: running on $REDIS_PORT"; else echo "redis: stopped"; fi
	if ferretdb_up; then echo "ferretdb: running on $FERRET_PORT"; else echo "ferretdb: stopped"; fi
	if mailpit_up; then echo "mailpit: running on $SMTP_PORT (SMTP) and $MAILPIT_HTTP_PORT (API)"; else echo "mailpit: stopped"; fi
	if [ -x "${LOGINKIT_CHROMIUM:-$CHROMIUM_BIN}" ]; then echo "chromium: ${LOGINKIT_CHROMIUM:-$CHROMIUM_BIN}"; else echo "chromium: missing"; fi
}

# running prints the name of each server running from the state directory.
running() {
	local s
	for s in postgres redis ferretdb mailpit; do
		if "${s}_up"; then echo "$s"; fi
	done
}

# with_lock serialises start and stop between concurrent runs.
with_lock() {
	mkdir -p "$STATE" || die "cannot create $STATE"
	if command -v flock >/dev/null; then
		exec 9>"$STATE/lock"
		flock -w 600 9 || die "timed out waiting for $STATE/lock"
	fi
}

services_arg() {
	local s ok
	for s in "$@"; do
		ok=0
		for a in "${ALL_SERVICES[@]}"; do [ "$s" = "$a" ] && ok=1; done
		[ "$ok" = 1 ] || die "unknown service $s (want one of ${ALL_SERVICES[*]})"
	done
}

main() {
	local cmd=${1:-}
	shift || true
	local services=("$@")
	services_arg "${services[@]}"
	[ ${#services[@]} -gt 0 ] || services=("${ALL_SERVICES[@]}")
	case $cmd in
	start)
		with_lock
		local failed=() s
		for s in "${services[@]}"; do
			"start_$s" || failed+=("$s")
		done
		print_env
		if [ ${#failed[@]} -gt 0 ]; then
			log "FAILED to start: ${failed[*]}"
			return 1
		fi
		;;
	stop)
		with_lock
		local s
		for s in "${services[@]}"; do "stop_$s"; done
		;;
	env) print_env ;;
	status) status ;;
	running) running ;;
	*)
		echo "usage: $0 start|stop|env|status|running [postgres|redis|ferretdb|mailpit|chromium]..." >&2
		return 2
		;;
	esac
}

# Run main unless sourced (the functions are sourced to test them).
if [ "${BASH_SOURCE[0]}" = "$0" ]; then main "$@"; fi
