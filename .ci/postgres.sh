# A throwaway PostgreSQL server for the tests, sourced by .ci/run (developers may source it too):
#
#   source .ci/postgres.sh && start_postgres    # exports HELPDESK_TEST_POSTGRES_URL
#
# It installs Debian's postgresql package when no server is installed (as root), creates a
# cluster in a temporary directory owned by the `postgres` user (or by the caller when not
# root), starts it on a free loopback port with its socket in that directory, and removes it
# all when the calling shell exits. fsync is off and the cluster lives in memory (/dev/shm)
# where there is one: it holds test data only, and every test creates a database of its own.

_pg_bindir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir"
}

_pg_as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

stop_postgres() {
    if [ -n "${HELPDESK_PG_DIR:-}" ] && [ -d "$HELPDESK_PG_DIR" ]; then
        _pg_as_owner "$(_pg_bindir)/pg_ctl" -D "$HELPDESK_PG_DIR/data" -m immediate stop \
            >/dev/null 2>&1 || true
        rm -rf "$HELPDESK_PG_DIR"
    fi
}

start_postgres() {
    local bindir port password
    bindir=$(_pg_bindir) || true
    if [ -z "$bindir" ]; then
        if [ "$(id -u)" != 0 ]; then
            echo "error: PostgreSQL is not installed (apt-get install postgresql, as root)" >&2
            return 1
        fi
        echo "installing PostgreSQL (Debian's postgresql package)…" >&2
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
        bindir=$(_pg_bindir)
    fi
    local parent=/tmp
    if [ -d /dev/shm ] && [ -w /dev/shm ]; then
        parent=/dev/shm
    fi
    HELPDESK_PG_DIR=$(mktemp -d "$parent/helpdesk-pg.XXXXXX")
    export HELPDESK_PG_DIR
    trap stop_postgres EXIT
    password=$(python -c 'import secrets; print(secrets.token_hex(16))')
    printf '%s\n' "$password" >"$HELPDESK_PG_DIR/pwfile"
    if [ "$(id -u)" = 0 ]; then
        chown -R postgres: "$HELPDESK_PG_DIR"
    fi
    chmod 700 "$HELPDESK_PG_DIR"
    _pg_as_owner "$bindir/initdb" -D "$HELPDESK_PG_DIR/data" -U postgres -E UTF8 --locale=C \
        --auth=scram-sha-256 --pwfile="$HELPDESK_PG_DIR/pwfile" --no-sync >/dev/null
    port=$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    _pg_as_owner "$bindir/pg_ctl" -D "$HELPDESK_PG_DIR/data" -l "$HELPDESK_PG_DIR/server.log" -w \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $HELPDESK_PG_DIR -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null
    export HELPDESK_TEST_POSTGRES_URL="postgresql://postgres:$password@127.0.0.1:$port/postgres"
    echo "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') for the tests on 127.0.0.1:$port" >&2
}
