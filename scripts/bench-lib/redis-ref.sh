#!/usr/bin/env bash
# Second reference for the cost of one counter increment: a throwaway redis-server on
# 127.0.0.1:PORT (no RDB, no AOF, 64 MiB cap, files in a temp dir) measured with
#   redis-benchmark -q -n 200000 -c 64 -P 1 -t incr
# then stopped by its pid. Prints redis-benchmark's line and one machine-readable line:
#   RESULT redis_incr_rps=<ops/s> p50_ms=<ms|na>
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 PORT" >&2
    exit 2
fi
port=$1
if ! [[ $port =~ ^[0-9]+$ ]] || (( port < 1 || port > 65535 )); then
    echo "redis-ref: PORT must be 1-65535, got '$port'" >&2
    exit 2
fi
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "redis-ref: port $port is already in use" >&2
    exit 1
fi

workdir=$(mktemp -d "${TMPDIR:-/tmp}/redis-ref.XXXXXX")
pid=""
cleanup() {
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$workdir"
}
trap cleanup EXIT

redis-server --bind 127.0.0.1 --port "$port" --protected-mode yes \
    --save '' --appendonly no --maxmemory 64mb --maxmemory-policy noeviction \
    --daemonize no --dir "$workdir" --pidfile "$workdir/redis.pid" \
    --logfile "$workdir/redis.log" </dev/null >/dev/null 2>&1 &
pid=$!

for _ in $(seq 1 100); do
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "redis-ref: redis-server exited during start:" >&2
        tail -n 5 "$workdir/redis.log" >&2 || true
        exit 1
    fi
    if [[ $(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null) == PONG ]]; then
        break
    fi
    sleep 0.1
done
if [[ $(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null) != PONG ]]; then
    echo "redis-ref: redis-server on port $port not answering after 10 s" >&2
    exit 1
fi

# -q prints one summary line per test, after \r-separated progress updates.
output=$(timeout 300 redis-benchmark -h 127.0.0.1 -p "$port" -q -n 200000 -c 64 -P 1 -t incr | tr '\r' '\n' | grep -E '^INCR: .*requests per second' | tail -n 1)
if [[ -z $output ]]; then
    echo "redis-ref: redis-benchmark printed no INCR result" >&2
    exit 1
fi
echo "$output"
rps=$(sed -E 's/^INCR: ([0-9.]+) requests per second.*/\1/' <<<"$output")
p50=$(sed -nE 's/.*p50=([0-9.]+) msec.*/\1/p' <<<"$output")
echo "RESULT redis_incr_rps=$rps p50_ms=${p50:-na}"
