#!/usr/bin/env bash
# contrib/bench/run.sh: nbtd against Samba's nmbd and a bare responder, on a LAN of network
# namespaces, with one load generator (`nbt bench load`). Writes BENCHMARKS.md.
#
#   sudo contrib/bench/run.sh            # everything, about 12 minutes
#
# Environment:
#   REPEAT=3        runs of each load point (the median is reported)
#   DURATION=4s     measured time of each load point (after a 1 s warm-up)
#   IDLE_SECS=60    length of the idle measurement
#   OUT=BENCHMARKS.md  the report; RAW=contrib/bench/results.jsonl  the measurements behind it
#   SECTIONS="idle load browse elections"   the parts to run
#   WINDOWS="1 16 64"   the windows of the load section; KINDS="query status" its requests
#   SKIP_BUILD=1    use the binaries already built in ${CARGO_TARGET_DIR:-target}/release
#   PAUSE_FUZZERS=1 SIGSTOP processes whose command line holds "corpus/" while measuring, and
#                   SIGCONT them afterwards (on any exit)
#
# Everything runs in namespaces named nbtbench-* on 198.18.2.0/24 and 198.18.3.0/24, behind
# bridges with no uplink: nothing is sent on this machine's interfaces. The namespaces and every
# process in them are removed on exit, also on failure or Ctrl-C.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
REPEAT=${REPEAT:-3}
DURATION=${DURATION:-4s}
IDLE_SECS=${IDLE_SECS:-60}
OUT=${OUT:-$ROOT/BENCHMARKS.md}
SECTIONS=" ${SECTIONS:-idle load browse elections} "
WINDOWS=${WINDOWS:-1 16 64}
KINDS=${KINDS:-query status}
want() { [[ "$SECTIONS" == *" $1 "* ]]; }
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release
WORK=$(mktemp -d /tmp/nbtbench.XXXXXX)
RESULTS=$WORK/results.jsonl
RAW=${RAW:-$HERE/results.jsonl}
NET=198.18.2
ENET=198.18.3
GEN_IP=$NET.10
NMBD_IP=$NET.1
NBTD_IP=$NET.2
RESP_IP=$NET.3

die() { echo "bench: $*" >&2; exit 2; }
say() { echo "bench: $*" >&2; }

[ "$(id -u)" = 0 ] || die "needs root (network namespaces, UDP 137); run it with sudo"
for p in ip nmbd smbd nmblookup python3; do
  command -v "$p" >/dev/null || die "$p is missing: install iproute2, samba, samba-common-bin and python3"
done

# --- cleanup -------------------------------------------------------------------------------
NAMESPACES=()
PAUSED=0
cleanup() {
  set +e
  [ -n "${ALL_PIDS:-}" ] && kill -CONT $ALL_PIDS 2>/dev/null
  for ns in "${NAMESPACES[@]}"; do
    pids=$(ip netns pids "$ns" 2>/dev/null)
    [ -n "$pids" ] && kill $pids 2>/dev/null
  done
  sleep 0.5
  for ns in "${NAMESPACES[@]}"; do
    pids=$(ip netns pids "$ns" 2>/dev/null)
    [ -n "$pids" ] && kill -9 $pids 2>/dev/null
    ip netns del "$ns" 2>/dev/null
  done
  if [ "$PAUSED" = 1 ]; then pkill -CONT -f corpus/; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the LANs --------------------------------------------------------------------------------
# lan BRIDGE_NS: a namespace holding a bridge br0.
lan() {
  ip netns add "$1"; NAMESPACES+=("$1")
  ip -n "$1" link set lo up
  ip -n "$1" link add br0 type bridge
  ip -n "$1" link set br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0
  ip -n "$1" link set br0 up
}
# host BRIDGE_NS NS ADDR/24 BROADCAST: a namespace with lan0 on the bridge.
host() {
  local br=$1 ns=$2 addr=$3 brd=$4 port="p${#NAMESPACES[@]}"
  ip netns add "$ns"; NAMESPACES+=("$ns")
  ip -n "$ns" link set lo up
  ip link add tmpbh$$ netns "$ns" type veth peer name "$port" netns "$br"
  ip -n "$ns" link set tmpbh$$ name lan0
  ip -n "$br" link set "$port" master br0 up
  ip -n "$ns" addr add "$addr" brd "$brd" dev lan0
  ip -n "$ns" link set lan0 up
}
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; } # the peak of VmRSS so far
# CPU ticks (utime + stime) and context switches (voluntary + involuntary, all threads).
cpu_ticks() { awk '{ sub(/.*\) /, ""); split($0, f, " "); print f[12] + f[13] }' "/proc/$1/stat"; }
switches() { cat /proc/"$1"/task/*/status | awk '/ctxt_switches/ {s += $2} END {print s}'; }
wait_until() { # wait_until SECONDS COMMAND...: polls every 0.2 s
  local until=$(( $(date +%s%N) + $1 * 1000000000 )); shift
  while [ "$(date +%s%N)" -lt "$until" ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  return 1
}
nbtd_role() { # nbtd_role CONTROL_SOCKET: the browser role on the first interface
  "$BIN/nbt" daemon --json --control-socket "$1" 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["interfaces"][0]["browser"]["role"])'
}
nbtd_servers() {
  "$BIN/nbt" daemon --json --control-socket "$1" 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["interfaces"][0]["browser"]["servers"])'
}
is_master() { [ "$(nbtd_role "$1")" = master ]; }

smb_conf() { # smb_conf DIR NAME WORKGROUP [extra lines]
  local dir=$1 name=$2 wg=$3; shift 3
  mkdir -p "$dir"/{lock,state,cache,private,pid,log,ncalrpc}
  {
    echo "[global]"
    echo "netbios name = $name"
    echo "workgroup = $wg"
    echo "interfaces = lan0"
    echo "bind interfaces only = yes"
    echo "log level = 0"
    for d in lock state cache private pid; do echo "$d directory = $dir/$d"; done
    echo "ncalrpc dir = $dir/ncalrpc"
    echo "log file = $dir/log/log.%m"
    echo "smb ports = 139"
    echo "server min protocol = NT1"
    echo "disable spoolss = yes"
    echo "load printers = no"
    for l in "$@"; do echo "$l"; done
  } >"$dir/smb.conf"
}
start_nmbd() { # start_nmbd NS DIR: nmbd in the foreground, in the background of this script
  ip netns exec "$1" nmbd --foreground --no-process-group -s "$2/smb.conf" -l "$2/log" \
    >"$2/nmbd.out" 2>&1 &
  echo $!
}
start_nbtd() { # start_nbtd NS NAME WORKGROUP DIR [extra args]
  # It stays root (like nmbd here): the work directory is mktemp's, which only root may enter.
  local ns=$1 name=$2 wg=$3 dir=$4; shift 4
  mkdir -p "$dir"
  # The load comes from one generator host: the per-source limits, which exist to hold back
  # exactly that, are lifted so that the capacity is what gets measured.
  cat >"$dir/nbtd.toml" <<EOF
status_rate_per_source = 0

[browser]
max_servers_per_workgroup = 20000
max_servers_total = 40000
max_servers_per_source = 20000
backup_list_rate_per_source = 0
EOF
  ip netns exec "$ns" "$BIN/nbtd" --config "$dir/nbtd.toml" --interfaces lan0 --netbios-name "$name" \
    --workgroup "$wg" --state-dir "$dir/state" --control-socket "$dir/control.sock" \
    --log-level warn --no-drop-privileges "$@" >"$dir/nbtd.out" 2>&1 &
  echo $!
}

# --- build -----------------------------------------------------------------------------------
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  say "building (cargo build --release)"
  (cd "$ROOT" && cargo build --release --bins) >&2
fi
[ -x "$BIN/nbtd" ] && [ -x "$BIN/nbt" ] || die "no binaries in $BIN: build them first"

# --- start -----------------------------------------------------------------------------------
say "building the LAN (nbtbench-*, $NET.0/24)"
lan nbtbench-br
host nbtbench-br nbtbench-gen "$GEN_IP/24" "$NET.255"
host nbtbench-br nbtbench-nmbd "$NMBD_IP/24" "$NET.255"
host nbtbench-br nbtbench-nbtd "$NBTD_IP/24" "$NET.255"
host nbtbench-br nbtbench-resp "$RESP_IP/24" "$NET.255"

smb_conf "$WORK/nmbd" NMBDHOST NMBDWG "os level = 65" "preferred master = yes" "local master = yes"
NMBD_PID=$(start_nmbd nbtbench-nmbd "$WORK/nmbd")
NBTD_PID=$(start_nbtd nbtbench-nbtd NBTDHOST NBTDWG "$WORK/nbtd" --os-level 65)
ip netns exec nbtbench-resp "$BIN/nbt" bench responder "$RESP_IP" RESPHOST >"$WORK/resp.out" 2>&1 &
RESP_PID=$!
STARTED=$(date +%s)
wait_until 30 in_ns nbtbench-gen nmblookup -U "$NMBD_IP" NMBDHOST ||
  die "nmbd does not answer for NMBDHOST; see $WORK/nmbd/log"
wait_until 30 in_ns nbtbench-gen "$BIN/nbt" lookup NBTDHOST --server "$NBTD_IP" ||
  die "nbtd does not answer for NBTDHOST: $(cat "$WORK/nbtd/nbtd.out")"

if [ "${PAUSE_FUZZERS:-0}" = 1 ]; then
  say "pausing the fuzzers (SIGSTOP to command lines with corpus/; SIGCONT on exit)"
  PAUSED=1
  pkill -STOP -f corpus/ || true
fi

meta() { echo "{\"section\":\"meta\",\"key\":\"$1\",\"value\":\"$2\"}" >>"$RESULTS"; }
meta loadavg_start "$(cut -d' ' -f1-3 /proc/loadavg)"
meta samba "$(nmbd --version 2>/dev/null | head -1)"
if [ "${PAUSE_FUZZERS:-0}" != 1 ] || [ "$(nproc)" -le 2 ]; then
  meta shared "Taken on a shared machine (other builds and background jobs may run): compare servers within one run."
fi

# --- load ------------------------------------------------------------------------------------
want load && for rep in $(seq 1 "$REPEAT"); do
  for kind in $KINDS; do
    for window in $WINDOWS; do
      for server in responder nbtd nmbd; do
        case $server in
          responder) ip=$RESP_IP name=RESPHOST pid=$RESP_PID ;;
          nbtd) ip=$NBTD_IP name=NBTDHOST pid=$NBTD_PID ;;
          nmbd) ip=$NMBD_IP name=NMBDHOST pid=$NMBD_PID ;;
        esac
        say "load: run $rep/$REPEAT, $kind, window $window, $server"
        line=$(in_ns nbtbench-gen "$BIN/nbt" bench load "$ip" "$name" --kind "$kind" \
          --window "$window" --duration "$DURATION" --server-pid "$pid" ${LOAD_ARGS:-}) || true
        [ -n "$line" ] || die "the load generator failed against $server"
        echo "{\"section\":\"load\",\"server\":\"$server\",\"run\":$rep,\"result\":$line}" >>"$RESULTS"
      done
    done
  done
done

# --- idle ------------------------------------------------------------------------------------
if want idle; then
say "idle: ${IDLE_SECS} s each for nbtd and nmbd, alone, settled as masters"
wait_until 90 is_master "$WORK/nbtd/control.sock" || die "nbtd did not become master in 90 s"
sleep 10
# Each server alone: the others are stopped (SIGSTOP), so that nobody's announcements wake it.
idle_of() { # idle_of NAME PID
  local name=$1 pid=$2 t0 t1 s0 s1
  kill -STOP $ALL_PIDS 2>/dev/null; kill -CONT "$pid"
  sleep 2
  t0=$(cpu_ticks "$pid"); s0=$(switches "$pid")
  sleep "$IDLE_SECS"
  t1=$(cpu_ticks "$pid"); s1=$(switches "$pid")
  kill -CONT $ALL_PIDS 2>/dev/null
  echo "{\"section\":\"idle\",\"server\":\"$name\",\"seconds\":$IDLE_SECS,\"cpu_ticks\":$(( t1 - t0 )),\"switches\":$(( s1 - s0 ))}" >>"$RESULTS"
}
ALL_PIDS="$NBTD_PID $NMBD_PID $RESP_PID"
idle_of nbtd "$NBTD_PID"
idle_of nmbd "$NMBD_PID"
fi

# --- browse list -----------------------------------------------------------------------------
if want browse; then
say "browse list: the exact size of an entry (protocol/tests/browse_memory.rs)"
exact=$(cd "$ROOT" && cargo test -q --release -p nbt-protocol --test browse_memory -- --nocapture 2>/dev/null |
  sed -n 's/^browse list: \([0-9]*\) bytes per server (ascending names), \([0-9]*\) (scattered)$/\1 \2/p')
if [ -n "$exact" ]; then
  set -- $exact
  echo "{\"section\":\"entry_size\",\"ascending\":$1,\"scattered\":$2}" >>"$RESULTS"
fi
say "browse list: waiting for nbtd and nmbd to be the masters of their workgroups"
wait_until 90 is_master "$WORK/nbtd/control.sock" || die "nbtd did not become master in 90 s"
wait_until 180 in_ns nbtbench-gen nmblookup -s "$WORK/nmbd/smb.conf" -B "$NET.255" 'NMBDWG#1d' ||
  die "nmbd did not become master of NMBDWG in 180 s"
# nmbd first, by broadcast (nmbd takes HostAnnouncements from its broadcast socket, as Samba
# sends them). nbtd hears these too and lists them: its own measurement starts after them.
nmbd_rss0=$(rss_kb "$NMBD_PID")
say "browse list: announcing 10,000 servers to nmbd"
in_ns nbtbench-gen "$BIN/nbt" bench announce "$GEN_IP" "$NET.255" NMBDWG --count 10000 --prefix NM --rate 4000
# Settled: 12 s, so that work the announcements set off (nbtd saves its list every 10 s while it
# changes) is done and counted, in the peak as well as in what stays resident.
sleep 12
nmbd_rss1=$(rss_kb "$NMBD_PID")
nmbd_hwm1=$(hwm_kb "$NMBD_PID")
before_entries=$(nbtd_servers "$WORK/nbtd/control.sock")
nbtd_rss0=$(rss_kb "$NBTD_PID")
say "browse list: announcing 10,000 servers to nbtd"
in_ns nbtbench-gen "$BIN/nbt" bench announce "$GEN_IP" "$NBTD_IP" NBTDWG --count 10000 --prefix NB --rate 4000
has_all() { [ "$(nbtd_servers "$WORK/nbtd/control.sock")" -ge $(( before_entries + 10000 )) ]; }
wait_until 30 has_all || say "nbtd lists only $(nbtd_servers "$WORK/nbtd/control.sock") servers"
sleep 12
after_entries=$(nbtd_servers "$WORK/nbtd/control.sock")
nbtd_rss1=$(rss_kb "$NBTD_PID")
nbtd_hwm1=$(hwm_kb "$NBTD_PID")
echo "{\"section\":\"browse_rss\",\"server\":\"nbtd\",\"entries\":$(( after_entries - before_entries )),\"rss_kb_before\":$nbtd_rss0,\"rss_kb_after\":$nbtd_rss1,\"hwm_kb_after\":$nbtd_hwm1}" >>"$RESULTS"
echo "{\"section\":\"browse_rss\",\"server\":\"nmbd\",\"entries\":10000,\"rss_kb_before\":$nmbd_rss0,\"rss_kb_after\":$nmbd_rss1,\"hwm_kb_after\":$nmbd_hwm1}" >>"$RESULTS"
for rep in 1 2 3; do
  line=$(in_ns nbtbench-gen "$BIN/nbt" bench list "$NBTD_IP" NBTDWG) || die "listing nbtd's browse list failed"
  echo "{\"section\":\"browse_list\",\"server\":\"nbtd\",\"result\":$line}" >>"$RESULTS"
done
# What the listings (each copies the workgroup's entries) leave resident, once they are over.
sleep 2
echo "{\"section\":\"browse_list_rss\",\"server\":\"nbtd\",\"via\":\"smb\",\"rss_kb_before\":$nbtd_rss1,\"rss_kb_after\":$(rss_kb "$NBTD_PID"),\"hwm_kb_after\":$(hwm_kb "$NBTD_PID")}" >>"$RESULTS"
# The same through the control socket (nbt view --daemon), three times.
rss_before_control=$(rss_kb "$NBTD_PID")
for rep in 1 2 3; do
  "$BIN/nbt" view --daemon --json --control-socket "$WORK/nbtd/control.sock" NBTDWG >/dev/null ||
    die "listing nbtd's browse list through its control socket failed"
done
sleep 2
echo "{\"section\":\"browse_list_rss\",\"server\":\"nbtd\",\"via\":\"control\",\"rss_kb_before\":$rss_before_control,\"rss_kb_after\":$(rss_kb "$NBTD_PID"),\"hwm_kb_after\":$(hwm_kb "$NBTD_PID")}" >>"$RESULTS"

fi

# --- elections -------------------------------------------------------------------------------
if want elections; then
say "elections: 3 nbtd hosts, then 3 nmbd hosts, from start to one master"
lan nbtbench-ebr
for i in 1 2 3; do host nbtbench-ebr "nbtbench-e$i" "$ENET.$i/24" "$ENET.255"; done
one_master() {
  local n=0 i
  for i in 1 2 3; do is_master "$WORK/e$i/control.sock" && n=$((n + 1)); done
  [ "$n" = 1 ]
}
for rep in 1 2 3; do
  rm -rf "$WORK"/e1 "$WORK"/e2 "$WORK"/e3
  t0=$(date +%s%N)
  epids=()
  for i in 1 2 3; do epids+=($(start_nbtd "nbtbench-e$i" "EHOST$i" ELECTWG "$WORK/e$i")); done
  if wait_until 120 one_master; then
    t1=$(date +%s%N)
    echo "{\"section\":\"election\",\"server\":\"nbtd\",\"seconds\":$(( (t1 - t0) / 1000000 ))e-3}" >>"$RESULTS"
  else
    echo "{\"section\":\"election\",\"server\":\"nbtd\",\"seconds\":null}" >>"$RESULTS"
  fi
  kill "${epids[@]}" 2>/dev/null || true
  gone() { local p; for p; do kill -0 "$p" 2>/dev/null && return 1; done; return 0; }
  wait_until 20 gone "${epids[@]}" || kill -9 "${epids[@]}" 2>/dev/null || true
done
nmbd_master() { in_ns nbtbench-e1 nmblookup -s "$WORK/n1/smb.conf" -B "$ENET.255" 'ELECTWG#1d'; }
for i in 1 2 3; do smb_conf "$WORK/n$i" "NHOST$i" ELECTWG; done
t0=$(date +%s%N)
npids=()
for i in 1 2 3; do npids+=($(start_nmbd "nbtbench-e$i" "$WORK/n$i")); done
if wait_until 300 nmbd_master; then
  t1=$(date +%s%N)
  echo "{\"section\":\"election\",\"server\":\"nmbd\",\"seconds\":$(( (t1 - t0) / 1000000 ))e-3}" >>"$RESULTS"
else
  echo "{\"section\":\"election\",\"server\":\"nmbd\",\"seconds\":null}" >>"$RESULTS"
fi
kill "${npids[@]}" 2>/dev/null || true
fi

meta loadavg_end "$(cut -d' ' -f1-3 /proc/loadavg)"

# --- report ----------------------------------------------------------------------------------
if [ "$PAUSED" = 1 ]; then pkill -CONT -f corpus/ || true; PAUSED=0; fi
COMMAND="sudo contrib/bench/run.sh"
[ "$REPEAT" != 3 ] && COMMAND="REPEAT=$REPEAT $COMMAND"
cp "$RESULTS" "$RAW"
python3 "$HERE/report.py" "$RESULTS" "$COMMAND" "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" >"$OUT"
say "wrote $OUT"
