# shellcheck shell=bash
# PostgreSQL management shared by ops/run, ops/test and ops/bench.
# A cluster here is a data folder plus a loopback port; it is run as the `postgres` user when we are root,
# because PostgreSQL refuses to run as root.

pg_bindir() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
    done
    command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
    return 1
}

# Installs Debian's postgresql when it is missing and we are root; fails with a clear message otherwise.
pg_ensure_installed() {
    if pg_bindir >/dev/null; then return 0; fi
    if [ "$(id -u)" -ne 0 ]; then
        echo "PostgreSQL is not installed and we are not root: install it (apt-get install -y postgresql) or set MDR_DATABASE_URL." >&2
        return 1
    fi
    echo "installing PostgreSQL (Debian's postgresql package)…" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2 || return 1
    # Debian's package starts a cluster of its own on 5432; we never use it.
    pg_bindir >/dev/null
}

# Runs a PostgreSQL binary as the owner of the cluster. Callers that redirect its output wrap it in ( ): a
# redirection on a function call also captures the messages of a trap that runs meanwhile (e.g. cleanup on Ctrl-C).
pg_as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# pg_free_port: prints a free TCP port on 127.0.0.1.
pg_free_port() {
    python3 - <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

# pg_start DATA_DIR PORT [extra postgres -c settings…]: initdb on first use, then start on 127.0.0.1:PORT.
# Later settings win over earlier ones, so the extras may override the defaults below (e.g. max_connections=300).
pg_start() {
    local data=$1 port=$2
    shift 2
    local bin
    bin=$(pg_bindir) || return 1
    mkdir -p "$data"
    if [ "$(id -u)" -eq 0 ]; then
        if ! id postgres >/dev/null 2>&1; then
            echo "there is no postgres user to run PostgreSQL as (we are root): reinstall postgresql or set MDR_DATABASE_URL" >&2
            return 1
        fi
        chown postgres:postgres "$data"
        if ! runuser -u postgres -- test -w "$data"; then
            echo "the postgres user cannot reach $data (a parent folder is not traversable); set MDR_DATABASE_URL or move the project" >&2
            return 1
        fi
    fi
    chmod 700 "$data"
    if [ ! -f "$data/PG_VERSION" ]; then
        (pg_as_owner "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8) >"$data.initdb.log" 2>&1 ||
            { cat "$data.initdb.log" >&2; return 1; }
    fi
    # A Unix socket path is limited to 107 bytes; in a deep folder we go without one (we connect over TCP anyway).
    local sockets=$data
    [ "${#data}" -gt 80 ] && sockets="''"
    local opts="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$sockets -c max_connections=200"
    opts="$opts -c idle_in_transaction_session_timeout=60s"
    local extra
    for extra in "$@"; do opts="$opts -c $extra"; done
    local logged
    logged=0
    [ -f "$data/server.log" ] && logged=$(wc -l <"$data/server.log")
    if ! (pg_as_owner "$bin/pg_ctl" -D "$data" -l "$data/server.log" -o "$opts" -w -t 60 start) >/dev/null; then
        tail -n "+$((logged + 1))" "$data/server.log" | tail -20 >&2 # what this start logged
        if grep -q 'Address already in use' "$data/server.log" 2>/dev/null; then
            echo "port $port on 127.0.0.1 is taken by another program: choose another one (MDR_PG_PORT for ops/run)" >&2
        fi
        return 1
    fi
}

# pg_running DATA_DIR: succeeds, printing the port, when a server runs on that data folder.
pg_running() {
    local data=$1 bin
    bin=$(pg_bindir) || return 1
    [ -f "$data/postmaster.pid" ] || return 1
    (pg_as_owner "$bin/pg_ctl" -D "$data" status) >/dev/null 2>&1 || return 1
    sed -n 4p "$data/postmaster.pid"
}

# pg_stop DATA_DIR: stops the server of that data folder if one runs (fast shutdown, immediate if that hangs).
pg_stop() {
    local data=$1 bin
    bin=$(pg_bindir) || return 0
    [ -f "$data/postmaster.pid" ] || return 0
    (pg_as_owner "$bin/pg_ctl" -D "$data" -m fast -w -t 30 stop) >/dev/null 2>&1 ||
        (pg_as_owner "$bin/pg_ctl" -D "$data" -m immediate -w -t 30 stop) >/dev/null 2>&1
    return 0
}

# pg_createdb PORT NAME: creates database NAME on the server at 127.0.0.1:PORT unless it exists.
pg_createdb() {
    local port=$1 name=$2 bin exists
    bin=$(pg_bindir) || return 1
    # (psql interpolates :'name' in what it reads, not in -c.)
    exists=$("$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -XAtq -v ON_ERROR_STOP=1 -v name="$name" \
        <<<"SELECT 1 FROM pg_database WHERE datname = :'name'") || return 1
    [ "$exists" = 1 ] && return 0
    "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -Xq -v ON_ERROR_STOP=1 \
        -c "CREATE DATABASE \"$name\"" >/dev/null
}

