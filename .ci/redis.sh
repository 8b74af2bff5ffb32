#!/usr/bin/env bash
# A throwaway Redis server on loopback for the Redis token store tests, plain
# and TLS.
#
#   eval "$(.ci/redis.sh start)"   # installs redis-server if missing, starts it on two
#                                  # free ports and prints the variables to export
#   .ci/redis.sh stop              # stops the server this script started
#
# The one server listens on a plain port and a TLS port. For TLS the script
# makes a throwaway CA and a server certificate for 127.0.0.1 signed by it
# (openssl), and an ACL user with a random password, so that the TLS URL also
# tests a username and password. It prints:
#
#   export AMP_TEST_REDIS_URL=redis://127.0.0.1:PORT/
#   export AMP_TEST_REDISS_URL=rediss://amp-test:PASSWORD@127.0.0.1:TLS_PORT/
#   export AMP_TEST_REDIS_CA_FILE=…/ca.crt        # the CA to trust
#   export AMP_TEST_REDIS_TLS_CERT=…/server.crt   # for tests that start their own
#   export AMP_TEST_REDIS_TLS_KEY=…/server.key    #   TLS server
#
# Only the export lines go to stdout; progress goes to stderr. The server keeps
# nothing on disk (no RDB, no AOF). Its pid, ports, certificates and log are
# kept in $AMP_REDIS_STATE_DIR (default: ${TMPDIR:-/tmp}/amp-ci-redis-$UID), so
# `stop` ends exactly the server `start` began, and `start` twice reuses it.
set -euo pipefail

state_dir="${AMP_REDIS_STATE_DIR:-${TMPDIR:-/tmp}/amp-ci-redis-$(id -u)}"
pid_file="$state_dir/redis.pid"
port_file="$state_dir/port"
tls_port_file="$state_dir/tls-port"
password_file="$state_dir/acl-password"
tls_dir="$state_dir/tls"
acl_user=amp-test

say() { printf 'redis.sh: %s\n' "$*" >&2; }

print_vars() {
    printf 'export AMP_TEST_REDIS_URL=redis://127.0.0.1:%s/\n' "$(cat "$port_file")"
    printf 'export AMP_TEST_REDISS_URL=rediss://%s:%s@127.0.0.1:%s/\n' \
        "$acl_user" "$(cat "$password_file")" "$(cat "$tls_port_file")"
    printf 'export AMP_TEST_REDIS_CA_FILE=%s\n' "$tls_dir/ca.crt"
    printf 'export AMP_TEST_REDIS_TLS_CERT=%s\n' "$tls_dir/server.crt"
    printf 'export AMP_TEST_REDIS_TLS_KEY=%s\n' "$tls_dir/server.key"
}

# A CA, and a certificate for 127.0.0.1 and localhost signed by it, valid for
# two days: enough for any run, useless after.
make_certificates() {
    command -v openssl >/dev/null || { say "openssl is missing: it makes the TLS certificates"; exit 1; }
    mkdir -p "$tls_dir"
    (
        cd "$tls_dir"
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
            -subj "/CN=amp throwaway test CA" -keyout ca.key -out ca.crt 2>/dev/null
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -subj "/CN=127.0.0.1" -keyout server.key -out server.csr 2>/dev/null
        printf '%s\n' 'basicConstraints=CA:FALSE' 'keyUsage=digitalSignature' \
            'extendedKeyUsage=serverAuth' 'subjectAltName=IP:127.0.0.1,DNS:localhost' >server.ext
        openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
            -extfile server.ext -out server.crt 2>/dev/null
        rm -f server.csr server.ext ca.srl ca.key
        chmod 600 server.key
    )
}

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
        say "already running on ports $(cat "$port_file") and $(cat "$tls_port_file") (TLS)"
        print_vars
        return 0
    fi
    install
    mkdir -p "$state_dir"
    chmod 700 "$state_dir"
    rm -f "$pid_file" "$port_file" "$tls_port_file"
    make_certificates
    openssl rand -hex 16 >"$password_file"
    local port tls_port
    port="$(free_port)"
    tls_port="$(free_port)"
    while [ "$tls_port" = "$port" ]; do tls_port="$(free_port)"; done
    # The ACL line goes through a config file read from stdin, so the password
    # does not show in `ps`.
    printf 'user %s on >%s ~* &* +@all\n' "$acl_user" "$(cat "$password_file")" |
        redis-server - \
            --bind 127.0.0.1 --port "$port" \
            --tls-port "$tls_port" --tls-cert-file "$tls_dir/server.crt" \
            --tls-key-file "$tls_dir/server.key" --tls-ca-cert-file "$tls_dir/ca.crt" \
            --tls-auth-clients no \
            --save '' --appendonly no \
            --dir "$state_dir" \
            --daemonize yes --pidfile "$pid_file" --logfile "$state_dir/redis.log" >&2
    echo "$port" >"$port_file"
    echo "$tls_port" >"$tls_port_file"
    local i
    for i in $(seq 1 100); do
        if redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then
            say "redis-server ready on 127.0.0.1:$port and 127.0.0.1:$tls_port (TLS)"
            print_vars
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
