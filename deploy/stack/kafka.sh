#!/usr/bin/env bash
# Local Apache Kafka 4.1.1 test broker (KRaft, combined broker+controller, one node) on 127.0.0.1,
# run straight from Maven Central jars: no Docker, no download site.
#   deploy/stack/kafka.sh up|down|status
# Env: GRADOPS_KAFKA_PORT (59092), GRADOPS_KAFKA_CONTROLLER_PORT (59093),
#      GRADOPS_CACHE_DIR (~/.cache/gradops: jars, outside the repo so fresh clones reuse them),
#      GRADOPS_STATE_DIR (<repo>/.stack: data, pid, generated config), GRADOPS_LOG_DIR (<repo>/.stack/logs).
set -euo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
KAFKA_VERSION=4.1.1
PORT="${GRADOPS_KAFKA_PORT:-59092}"
CONTROLLER_PORT="${GRADOPS_KAFKA_CONTROLLER_PORT:-59093}"
CACHE_DIR="${GRADOPS_CACHE_DIR:-${HOME:-/root}/.cache/gradops}/kafka-${KAFKA_VERSION}"
LIB_DIR="$CACHE_DIR/lib"
LIB_MARKER="$CACHE_DIR/lib.complete"
STATE_DIR="${GRADOPS_STATE_DIR:-$REPO/.stack}/kafka"
DATA_DIR="$STATE_DIR/data"
PID_FILE="$STATE_DIR/kafka.pid"
PORT_FILE="$STATE_DIR/kafka.port"
CONF="$STATE_DIR/server.properties"
LOG_ROOT="${GRADOPS_LOG_DIR:-$REPO/.stack/logs}"
LOG_DIR="$LOG_ROOT/kafka"
OUT_FILE="$LOG_ROOT/kafka.out"
POM="$REPO/deploy/kafka/pom.xml"
TEMPLATE="$REPO/deploy/kafka/server.properties.in"
LOG4J="$REPO/deploy/kafka/log4j2.properties"
START_TIMEOUT=90
STOP_TIMEOUT=30

log() { printf 'kafka: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# apt-get only when a tool is missing: a fresh machine of this kind must still work
apt_install() {
  log "installing $* with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "$@" >/dev/null
}

ensure_java() {
  command -v java >/dev/null 2>&1 || apt_install openjdk-17-jre-headless
  local v
  v="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
  [[ "${v%%.*}" -ge 17 ]] 2>/dev/null || die "Kafka 4.x needs Java 17+, found '${v:-?}'"
}

# Jars live in a cache outside the repo; the marker holds the pom's hash, so a changed pom
# re-fetches and an unchanged one never starts Maven.
ensure_jars() {
  local want
  want="$(sha256sum "$POM" | cut -d' ' -f1)"
  if [[ -f "$LIB_MARKER" && "$(cat "$LIB_MARKER")" == "$want" ]]; then
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || apt_install maven
  log "fetching Kafka $KAFKA_VERSION jars from Maven Central into $LIB_DIR"
  mkdir -p "$CACHE_DIR"
  local tmp="$CACHE_DIR/lib.tmp.$$"
  rm -rf "$tmp"
  # copy into a temp dir and rename, so an interrupted fetch never looks complete
  mkdir -p "$LOG_ROOT"
  # Maven 3.8 prints stray ANSI resets even with -B -q: keep its output in a log, shown on failure
  if ! (cd "$CACHE_DIR" && mvn -B -q -f "$POM" -Dlib.dir="$tmp" package) >"$LOG_ROOT/kafka-maven.log" 2>&1; then
    tail -n 40 "$LOG_ROOT/kafka-maven.log" >&2
    rm -rf "$tmp"
    die "maven could not fetch the broker classpath (log: $LOG_ROOT/kafka-maven.log)"
  fi
  [[ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ]] || { rm -rf "$tmp"; die "kafka_2.13 jar missing after maven"; }
  rm -rf "$LIB_DIR"
  mv "$tmp" "$LIB_DIR"
  printf '%s\n' "$want" >"$LIB_MARKER"
}

render_config() {
  mkdir -p "$STATE_DIR" "$DATA_DIR" "$LOG_DIR"
  sed -e "s|@PORT@|$PORT|g" -e "s|@CONTROLLER_PORT@|$CONTROLLER_PORT|g" -e "s|@DATA_DIR@|$DATA_DIR|g" \
    "$TEMPLATE" >"$CONF.tmp"
  mv "$CONF.tmp" "$CONF"
}

java_opts() {
  # log4j2.shutdownHookEnabled=false: otherwise Log4j stops before Kafka's own shutdown hook has
  # logged, and the end of a shutdown is missing from server.log
  printf '%s\n' -Djava.awt.headless=true -Dlog4j2.shutdownHookEnabled=false \
    "-Dlog4j2.configurationFile=file:$LOG4J" "-Dkafka.logs.dir=$LOG_DIR" -cp "$LIB_DIR/*"
}

# Format once: meta.properties marks a formatted log dir (StorageTool refuses to reformat).
ensure_formatted() {
  [[ -f "$DATA_DIR/meta.properties" ]] && return 0
  local id opts
  # Kafka cluster ids are 22-char base64url UUIDs; a leading '-' would be parsed as an option
  id="-"
  while [[ "$id" == -* ]]; do
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | cut -c1-22)"
  done
  mapfile -t opts < <(java_opts)
  log "formatting $DATA_DIR (cluster id $id)"
  # static quorum (controller.quorum.voters) => format WITHOUT --standalone
  java "${opts[@]}" kafka.tools.StorageTool format -t "$id" -c "$CONF" >>"$OUT_FILE" 2>&1 \
    || { tail -n 20 "$OUT_FILE" >&2; die "kafka-storage format failed"; }
}

# pid from our pid file, only if it is still our broker (pids get reused)
our_pid() {
  local pid
  [[ -f "$PID_FILE" ]] || return 1
  pid="$(cat "$PID_FILE")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  is_kafka_pid "$pid" || return 1
  printf '%s\n' "$pid"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pid of whatever listens on 127.0.0.1:$PORT (e.g. a broker started from another checkout)
listener_pid() {
  ss -Hltnp "sport = :$PORT" 2>/dev/null | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -n1
}

is_kafka_pid() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka'; }

server_log_size() { stat -c %s "$LOG_DIR/server.log" 2>/dev/null || echo 0; }

# the log since byte offset $1 (whole file if it rolled over meanwhile)
server_log_since() {
  local f="$LOG_DIR/server.log"
  [[ -f "$f" ]] || return 0
  if [[ "$(server_log_size)" -ge "$1" ]]; then tail -c +"$(($1 + 1))" "$f"; else cat "$f"; fi
}

fail_start() {
  log "ERROR: $*"
  log "---- tail of $OUT_FILE"
  tail -n 30 "$OUT_FILE" >&2 || true
  log "---- tail of $LOG_DIR/server.log"
  server_log_since "$1" | tail -n 40 >&2 || true
  exit 1
}

# The broker binds its client port only when it enables request processing (right before
# "Kafka Server started"), so an open port plus that log line since our start = ready.
wait_ready() {
  local pid="$1" offset="$2" deadline=$((SECONDS + START_TIMEOUT))
  while ((SECONDS < deadline)); do
    kill -0 "$pid" 2>/dev/null || fail_start "$offset" "broker process $pid exited during startup"
    if port_open "$PORT" && server_log_since "$offset" | grep -q 'Kafka Server started'; then
      return 0
    fi
    sleep 0.2
  done
  fail_start "$offset" "broker not ready on 127.0.0.1:$PORT after ${START_TIMEOUT}s"
}

cmd_up() {
  mkdir -p "$STATE_DIR" "$LOG_DIR"
  # serialise concurrent `up`s; fd 9 is closed for the broker so it does not keep the lock
  exec 9>"$STATE_DIR/.lock"
  flock 9
  local pid offset t0=$SECONDS
  if pid="$(our_pid)"; then
    local running_port
    running_port="$(cat "$PORT_FILE" 2>/dev/null || echo "$PORT")"
    [[ "$running_port" == "$PORT" ]] \
      || die "this state dir's broker (pid $pid) runs on port $running_port, not $PORT: run down first"
    if port_open "$PORT"; then
      log "already running (pid $pid) on 127.0.0.1:$PORT"
      echo "127.0.0.1:$PORT"
      return 0
    fi
    log "pid $pid is running but not answering yet; waiting"
    wait_ready "$pid" 0
    echo "127.0.0.1:$PORT"
    return 0
  fi
  rm -f "$PID_FILE"
  if port_open "$PORT"; then
    pid="$(listener_pid)"
    if [[ -n "$pid" ]] && is_kafka_pid "$pid"; then
      # same port = same broker, like postgres.sh's per-port cluster: reuse, don't fight over it
      log "127.0.0.1:$PORT is served by a Kafka broker from another checkout (pid $pid," \
        "cwd $(readlink "/proc/$pid/cwd" 2>/dev/null || echo '?')); reusing it"
      echo "127.0.0.1:$PORT"
      return 0
    fi
    die "127.0.0.1:$PORT is in use by another process (pid ${pid:-?}); set GRADOPS_KAFKA_PORT"
  fi
  port_open "$CONTROLLER_PORT" && die "controller port 127.0.0.1:$CONTROLLER_PORT is in use; set GRADOPS_KAFKA_CONTROLLER_PORT"

  ensure_java
  ensure_jars
  render_config
  ensure_formatted

  local opts
  mapfile -t opts < <(java_opts)
  offset="$(server_log_size)"
  printf '==== %s starting Kafka %s on 127.0.0.1:%s\n' "$(date -Is)" "$KAFKA_VERSION" "$PORT" >>"$OUT_FILE"
  # setsid: own session, so a Ctrl-C or CI killing our process group leaves the broker alone;
  # cwd = state dir, not wherever the caller stood
  (cd "$STATE_DIR" && exec setsid java -Xms256m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent \
    "${opts[@]}" kafka.Kafka "$CONF" </dev/null >>"$OUT_FILE" 2>&1 9>&-) &
  pid=$!
  echo "$pid" >"$PID_FILE"
  echo "$PORT" >"$PORT_FILE"
  log "started pid $pid; waiting for it to accept clients (logs: $LOG_DIR/server.log, $OUT_FILE)"
  wait_ready "$pid" "$offset"
  log "ready on 127.0.0.1:$PORT in $((SECONDS - t0))s"
  echo "127.0.0.1:$PORT"
}

cmd_down() {
  local pid i
  if ! pid="$(our_pid)"; then
    rm -f "$PID_FILE"
    pid="$(listener_pid)"
    if [[ -n "$pid" ]] && is_kafka_pid "$pid"; then
      log "127.0.0.1:$PORT is served by a broker this checkout did not start (pid $pid); left running"
    else
      log "not running"
    fi
    return 0
  fi
  log "stopping pid $pid (SIGTERM, SIGKILL after ${STOP_TIMEOUT}s)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < STOP_TIMEOUT * 5; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "still alive after ${STOP_TIMEOUT}s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$PID_FILE" "$PORT_FILE"
  log "stopped"
}

cmd_status() {
  local pid
  if pid="$(our_pid)" && port_open "$PORT"; then
    echo "kafka: running (pid $pid) on 127.0.0.1:$PORT"
    return 0
  fi
  pid="$(listener_pid)"
  if [[ -n "$pid" ]] && is_kafka_pid "$pid"; then
    echo "kafka: running (pid $pid, started from another checkout) on 127.0.0.1:$PORT"
    return 0
  fi
  echo "kafka: not running"
  return 1
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 up|down|status" >&2
    exit 2
    ;;
esac
