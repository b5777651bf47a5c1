#!/usr/bin/env bash
# Starts the nginx limit_req reference on 127.0.0.1:PORT, everything it writes kept in
# WORKDIR (config, pid file, logs, temp dirs). nginx runs with `daemon off` in the
# background of this script and keeps running after it returns; stop it with
# stop-nginx.sh WORKDIR (or kill the pid in WORKDIR/nginx.pid).
# Prints the master's pid on stdout once the port accepts connections.
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 PORT WORKDIR" >&2
    exit 2
fi
port=$1
if ! [[ $port =~ ^[0-9]+$ ]] || (( port < 1 || port > 65535 )); then
    echo "start-nginx: PORT must be 1-65535, got '$port'" >&2
    exit 2
fi
mkdir -p "$2"
workdir=$(cd "$2" && pwd)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [[ -s $workdir/nginx.pid ]] && kill -0 "$(cat "$workdir/nginx.pid")" 2>/dev/null; then
    echo "start-nginx: nginx already running with pid $(cat "$workdir/nginx.pid") in $workdir" >&2
    exit 1
fi
mkdir -p "$workdir"/tmp/{body,proxy,fastcgi,uwsgi,scgi} "$workdir/empty"

# Workers of a root master default to `nobody`, which may not reach WORKDIR (say, under
# /root); any other user runs workers as itself and must not name a user at all.
if [[ $(id -u) -eq 0 ]]; then
    user_directive='user root;'
else
    user_directive='# not root: workers run as the current user'
fi
escaped_workdir=$(printf '%s' "$workdir" | sed 's/[&|\\]/\\&/g')
sed -e "s|@USER_DIRECTIVE@|$user_directive|" \
    -e "s|@PORT@|$port|g" \
    -e "s|@WORKDIR@|$escaped_workdir|g" \
    "$here/nginx.conf.tmpl" >"$workdir/nginx.conf"

nginx_args=(-p "$workdir/" -c "$workdir/nginx.conf" -e "$workdir/error.log")
if ! nginx "${nginx_args[@]}" -t -q 2>"$workdir/configtest.log"; then
    echo "start-nginx: config test failed:" >&2
    cat "$workdir/configtest.log" >&2
    exit 1
fi

# Own stdio so a caller capturing our stdout ($(...)) is not held open by nginx.
nginx "${nginx_args[@]}" </dev/null >>"$workdir/nginx.out" 2>&1 &
pid=$!

# Ready when the port accepts a connection; give up after 10 s.
for _ in $(seq 1 100); do
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "start-nginx: nginx exited during start; see $workdir/error.log and $workdir/nginx.out" >&2
        tail -n 5 "$workdir/error.log" "$workdir/nginx.out" >&2 2>/dev/null || true
        exit 1
    fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "start-nginx: pid $pid listening on http://127.0.0.1:$port/v1/check (workdir $workdir)" >&2
        echo "$pid"
        exit 0
    fi
    sleep 0.1
done
echo "start-nginx: port $port not accepting after 10 s; stopping pid $pid" >&2
kill "$pid" 2>/dev/null || true
exit 1
