#!/usr/bin/env bash
# Stops the nginx that start-nginx.sh started in WORKDIR, by the pid in its pid file,
# and waits up to 10 s for it to exit (then kills it).
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 WORKDIR" >&2
    exit 2
fi
pidfile=$1/nginx.pid
if [[ ! -s $pidfile ]]; then
    echo "stop-nginx: no pid file at $pidfile; nothing to stop" >&2
    exit 0
fi
pid=$(cat "$pidfile")
if ! kill -0 "$pid" 2>/dev/null; then
    echo "stop-nginx: pid $pid is not running" >&2
    rm -f "$pidfile"
    exit 0
fi
kill -TERM "$pid"
for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || exit 0
    sleep 0.1
done
echo "stop-nginx: pid $pid still running after 10 s; sending KILL to it and its workers" >&2
# Workers outlive a killed master, so take them first, by parent pid.
pkill -KILL -P "$pid" 2>/dev/null || true
kill -KILL "$pid" 2>/dev/null || true
rm -f "$pidfile"
