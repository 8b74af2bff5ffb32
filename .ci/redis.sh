#!/usr/bin/env bash
# A throwaway Redis server on loopback for the Redis token store tests.
#
#   eval "$(.ci/redis.sh start)"   # installs redis-server if missing, starts it on a
#                                  # free port, prints: export AMP_TEST_REDIS_URL=redis://127.0.0.1:PORT/
#   .ci/redis.sh stop              # stops the server this script started
#
# Only the export line goes to stdout; progress goes to stderr. The server keeps
# nothing on disk (no RDB, no AOF). Its pid, port and log are kept in
# $AMP_REDIS_STATE_DIR (default: ${TMPDIR:-/tmp}/amp-ci-redis-$UID), so `stop`
# ends exactly the server `start` began, and `start` twice reuses it.
set -euo pipefail

state_dir="${AMP_REDIS_STATE_DIR:-${TMPDIR:-/tmp}/amp-ci-redis-$(id -u)}"
pid_file="$state_dir/redis.pid"
port_file="$state_dir/port"

say() { printf 'redis.sh: %s\n' "$*" >&2; }

print_url() { printf 'export AMP_TEST_REDIS_URL=redis://127.0.0.1:%s/\n' "$1"; }

install() {
    command -v redis-server >/dev/null && command -v redis-cli >/dev/null && return 0
    say "redis-server is missing; installing it with apt-get"
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { say "not root and no sudo: install redis-server yourself"; exit 1; }
        sudo=(sudo)
    fi
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >&2
    # Debian starts its own service on 6379; ours does not use it.
}

# True when something listens on 127.0.0.1:$1.
in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
    local port tries
    for tries in $(seq 1 200); do
        port=$((20000 + RANDOM % 40000))
        if ! in_use "$port"; then
            echo "$port"
            return 0
        fi
    done
    say "no free port found"
    exit 1
}

running() {
    [ -f "$pid_file" ] && [ -f "$port_file" ] || return 1
    local pid
    pid="$(cat "$pid_file")"
    kill -0 "$pid" 2>/dev/null && redis-cli -h 127.0.0.1 -p "$(cat "$port_file")" ping 2>/dev/null | grep -q PONG
}

start() {
    if running; then
        say "already running on port $(cat "$port_file")"
        print_url "$(cat "$port_file")"
        return 0
    fi
    install
    mkdir -p "$state_dir"
    chmod 700 "$state_dir"
    rm -f "$pid_file" "$port_file"
    local port
    port="$(free_port)"
    redis-server \
        --bind 127.0.0.1 --port "$port" \
        --save '' --appendonly no \
        --dir "$state_dir" \
        --daemonize yes --pidfile "$pid_file" --logfile "$state_dir/redis.log" >&2
    echo "$port" >"$port_file"
    local i
    for i in $(seq 1 100); do
        if redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then
            say "redis-server ready on 127.0.0.1:$port"
            print_url "$port"
            return 0
        fi
        sleep 0.1
    done
    say "redis-server did not answer on port $port; its log:"
    cat "$state_dir/redis.log" >&2 || true
    stop
    exit 1
}

stop() {
    if [ ! -f "$pid_file" ]; then
        say "no server of ours is running"
        rm -rf "$state_dir"
        return 0
    fi
    local pid port
    pid="$(cat "$pid_file")"
    port="$(cat "$port_file" 2>/dev/null || true)"
    if [ -n "$port" ]; then
        redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1 || true
    fi
    local i
    for i in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
    fi
    rm -rf "$state_dir"
    say "stopped"
}

case "${1:-start}" in
    start) start ;;
    stop) stop ;;
    *)
        say "usage: $0 [start|stop]"
        exit 2
        ;;
esac
