# clickhouse.sh - start and stop private ClickHouse servers for the tests:
# each on free loopback ports, with its own config, users and data folder
# under a temporary directory, stopped on exit (nothing is left running).
# Source it from bash; then:
#   ch_need                       exit 77 (skip, loudly) if no clickhouse-server
#   ch_start NAME...              start servers; sets CH_<NAME>_HTTP and
#                                 CH_<NAME>_TCP; with several names they are
#                                 the shards of cluster `sluice`, in order
#   ch_stop NAME [SIGNAL]         stop it (SIGTERM by default; KILL = crash)
#   ch_restart NAME               start it again on the same ports and data
#   ch_sql NAME SQL               run SQL over HTTP, print the answer
#   ch_stop_all                   what the EXIT trap runs
# Users: `default` (no password) and `sluice` (password `s3cret`).
CH_SERVER=${CH_SERVER:-$(command -v clickhouse-server || true)}
CH_ROOT=${CH_ROOT:-$(mktemp -d /tmp/sluice-ch.XXXXXX)}
CH_NAMES=""

ch_need() {
    if [ -z "$CH_SERVER" ] || [ ! -x "$CH_SERVER" ]; then
        echo "*** SKIPPED: clickhouse-server is not installed (Debian package" \
             "clickhouse-server; scripts/setup.sh --clickhouse installs it) ***" >&2
        exit 77
    fi
}

# A TCP port nobody listens on (the kernel's pick, released at once).
ch_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# ch_cluster_xml PEERS: the <remote_servers> section naming each server a shard
ch_cluster_xml() {
    local n tcp
    echo "<remote_servers><sluice>"
    for n in "$@"; do
        tcp=$(cat "$CH_ROOT/$n/tcp_port")
        echo "<shard><replica><host>127.0.0.1</host><port>$tcp</port></replica></shard>"
    done
    echo "</sluice></remote_servers>"
}

ch_write_config() {
    local name=$1 http=$2 tcp=$3 peers=$4
    local d="$CH_ROOT/$name"
    mkdir -p "$d/data" "$d/tmp" "$d/user_files" "$d/log"
    cat >"$d/config.xml" <<EOF
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$d/log/server.log</log>
    <errorlog>$d/log/server.err.log</errorlog><size>10M</size><count>1</count></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$http</http_port>
  <tcp_port>$tcp</tcp_port>
  <path>$d/data/</path>
  <tmp_path>$d/tmp/</tmp_path>
  <user_files_path>$d/user_files/</user_files_path>
  <users_config>$d/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
  <keep_alive_timeout>10</keep_alive_timeout>
  <mlock_executable>false</mlock_executable>
  $( [ -n "$peers" ] && ch_cluster_xml $peers )
</yandex>
EOF
    cat >"$d/users.xml" <<EOF
<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage>
    <log_queries>0</log_queries></default></profiles>
  <users>
    <default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile><quota>default</quota></default>
    <sluice><password>s3cret</password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile><quota>default</quota></sluice>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
    <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time>
  </interval></default></quotas>
</yandex>
EOF
}

# Wait until the server answers /ping (up to 30 s); 1 if it never does.
ch_wait() {
    local name=$1 http i
    http=$(cat "$CH_ROOT/$name/http_port")
    for i in $(seq 1 300); do
        if curl -sf "http://127.0.0.1:$http/ping" >/dev/null 2>&1; then
            return 0
        fi
        if ! kill -0 "$(cat "$CH_ROOT/$name/pid")" 2>/dev/null; then
            break
        fi
        sleep 0.1
    done
    echo "clickhouse $name did not start; its log:" >&2
    tail -n 20 "$CH_ROOT/$name/log/server.err.log" "$CH_ROOT/$name/stdout" >&2 2>/dev/null
    return 1
}

ch_launch() {
    local name=$1 d="$CH_ROOT/$1"
    "$CH_SERVER" --config-file="$d/config.xml" >"$d/stdout" 2>&1 &
    echo $! >"$d/pid"
    disown $! 2>/dev/null || true # no "Killed" notices: ch_stop waits by pid
    ch_wait "$name"
}

# ch_start NAME...: start servers (ports picked first, so that with two or
# more names each config names all of them as the shards of cluster `sluice`)
ch_start() {
    local try n ok
    for try in 1 2 3 4 5; do
        for n in "$@"; do
            mkdir -p "$CH_ROOT/$n"
            ch_free_port >"$CH_ROOT/$n/http_port"
            ch_free_port >"$CH_ROOT/$n/tcp_port"
        done
        ok=1
        for n in "$@"; do
            ch_write_config "$n" "$(cat "$CH_ROOT/$n/http_port")" \
                "$(cat "$CH_ROOT/$n/tcp_port")" "$([ $# -gt 1 ] && echo "$*")"
        done
        for n in "$@"; do
            if ch_launch "$n"; then
                CH_NAMES="$CH_NAMES $n"
                eval "CH_${n}_HTTP=$(cat "$CH_ROOT/$n/http_port")"
                eval "CH_${n}_TCP=$(cat "$CH_ROOT/$n/tcp_port")"
            else
                ok=0
            fi
        done
        [ $ok = 1 ] && return 0
        for n in "$@"; do
            ch_stop "$n" KILL
            rm -rf "${CH_ROOT:?}/$n"
        done
    done
    echo "clickhouse $*: could not start" >&2
    return 1
}

ch_stop() {
    local name=$1 sig=${2:-TERM} pid i
    [ -f "$CH_ROOT/$name/pid" ] || return 0
    pid=$(cat "$CH_ROOT/$name/pid")
    kill -"$sig" "$pid" 2>/dev/null || true
    for i in $(seq 1 200); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -f "$CH_ROOT/$name/pid"
}

ch_restart() {
    ch_launch "$1"
}

ch_sql() {
    local name=$1 http
    http=$(cat "$CH_ROOT/$name/http_port")
    curl -sS "http://127.0.0.1:$http/" --data-binary "$2"
}

ch_stop_all() {
    local n
    for n in $CH_NAMES; do
        ch_stop "$n"
    done
    rm -rf "$CH_ROOT"
}
