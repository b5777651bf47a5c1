#!/usr/bin/env bash
# User-space instructions per check, local against forwarded, counted by callgrind
# (repeatable where CPU time is not). Three nodes run under valgrind; wrk drives n1
# at a light fixed load (CONNECTIONS, 8 by default, each 20 ms between checks), first
# over keys n1 owns, then over keys n2 owns. callgrind_control zeroes and dumps the
# counters around each phase; a phase with no load gives the idle rate to subtract.
# Counts leave out the kernel (syscalls, wake-ups, fsync), which perf sees in 4b.
#
#   scripts/bench-lib/callgrind.sh BIN WORK_DIR [SECONDS] [CONNECTIONS]
# Prints RESULT callgrind_local / callgrind_forwarded lines.
#
# Debian bookworm's valgrind (3.19) cannot read the binary's DWARF 5; the one in
# Debian sid can, and is fetched into .build/valgrind once. libdispatch parks the
# main thread in sigsuspend() on a sigset in read-only memory, which valgrind
# writes to and dies: a preloaded sigsuspend hands it a copy.
set -euo pipefail
bin=$1 work=$2 seconds=${3:-10} connections=${4:-8}
root=$(cd "$(dirname "$0")/../.." && pwd)
lib=$root/scripts/bench-lib
cache=$root/.build/valgrind
mkdir -p "$work" "$cache"

"$root/scripts/bootstrap" valgrind >/dev/null   # its vgdb: sid's needs a newer glibc
if [ ! -x "$cache/root/usr/bin/valgrind.bin" ]; then
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main" > "$cache/sources.list"
    apt_dirs=(-o Dir::Etc::SourceList="$cache/sources.list" -o Dir::Etc::SourceParts=/dev/null
              -o Dir::State::Lists="$cache/lists" -o Dir::Cache="$cache/apt")
    mkdir -p "$cache/lists/partial" "$cache/apt/archives/partial"
    apt-get "${apt_dirs[@]}" update -qq
    (cd "$cache" && apt-get "${apt_dirs[@]}" download valgrind 2>/dev/null)
    dpkg -x "$cache"/valgrind_*.deb "$cache/root"
    ln -sf /usr/bin/vgdb "$cache/root/usr/bin/vgdb"
fi
cc=cc; command -v cc >/dev/null || cc=/opt/swift/usr/bin/clang
if [ ! -f "$cache/sigsuspend.so" ]; then
    cat > "$cache/sigsuspend.c" <<'C'
#define _GNU_SOURCE
#include <signal.h>
#include <unistd.h>
#include <sys/syscall.h>
int sigsuspend(const sigset_t *mask) {
    sigset_t copy = *mask;
    return (int)syscall(SYS_rt_sigsuspend, &copy, 8);
}
C
    "$cc" -O2 -shared -fPIC -o "$cache/sigsuspend.so" "$cache/sigsuspend.c"
fi
export VALGRIND_LIB=$cache/root/usr/libexec/valgrind
control=$cache/root/usr/bin/callgrind_control

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
mkdir -p "$work/cluster"
cp "$root/wrangler.toml" "$work/"
{ echo "replicas = 1"; echo 'certs_dir = "cluster/certs/development"'; } > "$work/cluster/development.toml"
for i in 1 2 3; do
    printf '\n[[nodes]]\nid = "n%s"\nhost = "127.0.0.1"\nhttp_port = %s\npeer_port = %s\ndata_dir = "cluster/data/development/n%s"\n' \
        "$i" "$(free_port)" "$(free_port)" "$i" >> "$work/cluster/development.toml"
done
(cd "$work" && "$bin" certs init >/dev/null)
http_port() { awk -v id="\"$1\"" '$1=="id" && $3==id {found=1} found && $1=="http_port" {print $3; exit}' "$work/cluster/development.toml"; }

pids=()
stop() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
}
trap stop EXIT
for id in n1 n2 n3; do
    (cd "$work" && ADMIN_TOKEN=bench LD_PRELOAD=$cache/sigsuspend.so exec "$cache/root/usr/bin/valgrind.bin" --tool=callgrind \
        --callgrind-out-file="$work/callgrind.$id" "$bin" node --id "$id" >"$work/$id.log" 2>&1) &
    pids+=($!)
done
for id in n1 n2 n3; do
    port=$(http_port "$id")
    for _ in $(seq 1 1200); do
        curl -sf "http://127.0.0.1:$port/health" 2>/dev/null |
            python3 -c "import json,sys; sys.exit(0 if json.load(sys.stdin)['members']>=3 else 1)" 2>/dev/null && break
        sleep 0.1
    done
done
c1=$(http_port n1)
python3 - "$c1" "$work" <<'PY'
import http.client, json, sys
port, work = int(sys.argv[1]), sys.argv[2]
c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
owned = {}
for i in range(1500):
    c.request("GET", f"/admin/ring?key=p{i}&rule=API", headers={"authorization": "Bearer bench"})
    owned.setdefault(json.loads(c.getresponse().read())["owner"], []).append(f"p{i}")
for node in ("n1", "n2"):
    open(f"{work}/keys-{node}", "w").write("\n".join(owned[node]) + "\n")
PY

load() {  # OWNER SECONDS
    CHECK_KEYS_FILE=$work/keys-$1 CHECK_DELAY_MS=20 wrk -t1 -c"$connections" -d"$2s" -s "$lib/check.lua" "http://127.0.0.1:$c1" -- /v1/check | grep '^RESULT'
}
# Instructions of the three nodes since the last zeroing: dump, then sum the newest dump of each.
dumped() {
    "$control" -d >/dev/null 2>&1
    local total=0 id file count
    for id in n1 n2 n3; do
        for _ in $(seq 1 100); do
            file=$(ls -t "$work/callgrind.$id".* 2>/dev/null | head -1)
            [ -n "$file" ] && [ "$file" != "${last[$id]:-}" ] && grep -q '^totals:' "$file" && break
            sleep 0.1
        done
        last[$id]=$file
        count=$(awk '/^totals:/ {print $2; exit}' "$file")
        total=$((total + count))
    done
    echo "$total"
}
forwarding() { curl -sf "http://127.0.0.1:$c1/metrics" | awk '/^rate_limit_forwarded_checks_total/ {c=$2} /^rate_limit_forward_batches_total/ {b=$2} END {print c+0, b+0}'; }
declare -A last
load n1 3 >/dev/null; load n2 3 >/dev/null   # warm both paths
"$control" -z >/dev/null 2>&1; sleep "$seconds"; idle=$(dumped)
for owner in n1 n2; do
    sent_before=$(forwarding)
    "$control" -z >/dev/null 2>&1
    line=$(load "$owner" "$seconds")
    instructions=$(dumped)
    sent_after=$(forwarding)
    requests=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$line")
    label=callgrind_local; [ "$owner" = n2 ] && label=callgrind_forwarded
    echo "RESULT $label instructions_per_check=$(( (instructions - idle) / requests )) checks=$requests checks_per_batch=$(python3 -c "c0, b0, c1, b1 = map(float, '$sent_before $sent_after'.split()); print(round((c1 - c0) / (b1 - b0), 1) if b1 > b0 else 0)") (keys $owner owns; user-space instructions of the 3 nodes under callgrind, less idle)"
done
