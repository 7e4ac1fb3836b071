# Per-sample plumbing: captures, client sessions driven through a fifo, the timeline and lab facts.
# Sourced by record.sh; needs topo.sh. $SW is the current sample's scratch dir.
# shellcheck shell=bash

declare -A CAP_PID=() CAP_HOST=()
declare -A SESSION_FD=() SESSION_PID=()

now() { date +%s.%N; }
# fact <key> <value>: ground truth for expected.mjs (one key=value a line).
fact() { printf '%s=%s\n' "$1" "$2" >>"$SW/facts.env"; }
# mark <key> <text>: a timestamped step of the lab script (also a fact).
mark() { local t; t=$(now); fact "t_$1" "$t"; printf '%s  %s\n' "$t" "$2" >>"$SW/timeline.txt"; }

# cap_start <host> <name> <tcpdump args...>: capture inside <host>'s namespace into $SW/<name>.raw
cap_start() {
  local h=$1 name=$2; shift 2
  # Started directly so $! is tcpdump, and stopped with TERM: background jobs ignore SIGINT.
  ip netns exec "$(ns "$h")" tcpdump -Z root -n -U -w "$SW/$name.raw" "$@" >"$SW/$name.tcpdump.log" 2>&1 &
  CAP_PID[$name]=$!
  CAP_HOST[$name]=$h
  local i
  for i in $(seq 50); do grep -q 'listening on' "$SW/$name.tcpdump.log" 2>/dev/null && return 0; sleep 0.1; done
  echo "tcpdump $name did not start" >&2; return 1
}

cap_stop_all() {
  local n
  sleep 1 # let the last frames reach the capture buffers (0.3 s lost frames on a loaded machine)
  for n in "${!CAP_PID[@]}"; do kill -TERM "${CAP_PID[$n]}" 2>/dev/null || true; done
  for n in "${!CAP_PID[@]}"; do wait "${CAP_PID[$n]}" 2>/dev/null || true; done
  for n in "${!CAP_PID[@]}"; do
    # A capture that lost frames cannot be ground truth.
    if ! grep -q '^0 packets dropped by kernel' "$SW/$n.tcpdump.log"; then
      echo "capture $n dropped packets:" >&2; cat "$SW/$n.tcpdump.log" >&2; return 1
    fi
  done
  CAP_PID=()
}

# The client's own capture is ground truth for its retransmissions; kept in scratch unless published.
client_capture_fact() { fact client_capture "$SW/$1.raw"; }

# publish <name> <file in sample dir> [clock offset seconds]: convert the raw capture to the format
# the file name asks for (.pcapng / .pcap, optional .gz) and shift its clock by the offset.
publish() {
  local name=$1 out=$2 off=${3:-0} tmp="$SW/$1.tmp" fmt
  # editcap writes pcapng unless told otherwise: keep classic pcap (µs or ns, as tcpdump wrote it).
  case "$(od -An -tx1 -N4 "$SW/$name.raw" | tr -d ' \n')" in
    4d3cb2a1|a1b23c4d) fmt=nsecpcap ;;
    *) fmt=pcap ;;
  esac
  case "$out" in *.pcapng|*.pcapng.gz) fmt=pcapng ;; esac
  editcap -F "$fmt" -t "$off" "$SW/$name.raw" "$tmp" >/dev/null
  case "$out" in
    *.gz) gzip -9n -c "$tmp" >"$SD/$out"; rm -f "$tmp" ;;
    *) mv "$tmp" "$SD/$out" ;;
  esac
  fact "capture" "$out,${CAP_HOST[$name]},$off"
}

# session_start <name> <host> <command>: an interactive client (on a pty, as a user types it)
# reading its input from a fifo; its screen goes to $SW/<name>.out.
session_start() {
  local name=$1 h=$2 cmd=$3 fifo="$SRV_WORK/$1.fifo" fd
  rm -f "$fifo"
  mkfifo "$fifo"
  TERM=dumb ip netns exec "$(ns "$h")" script -qfec "$cmd" /dev/null <"$fifo" >"$SW/$name.out" 2>&1 &
  SESSION_PID[$name]=$!
  exec {fd}>"$fifo"
  SESSION_FD[$name]=$fd
  sleep 0.5
}
# say <session> <line>: type one line into the session.
say() { mark "say_${1}_$(( ++SAY_N ))" "$1> $2"; printf '%s\n' "$2" >&"${SESSION_FD[$1]}"; }
session_end() {
  local name=$1 fd=${SESSION_FD[$1]}
  exec {fd}>&-
  wait "${SESSION_PID[$name]}" 2>/dev/null || true
  unset "SESSION_FD[$name]" "SESSION_PID[$name]"
}
SAY_N=0

# counters <host> <label>: the nft counters of a host, as nft prints them in JSON.
counters() { inns "$1" nft -j list counters >"$SW/counters-$2.json"; }

# client_txt: the transcripts (terminal control bytes stripped), after the lab's own timeline.
client_txt() {
  {
    echo "# Lab timeline (epoch seconds, lab clock = director clock)"
    cat "$SW/timeline.txt"
    local f
    for f in "$SW"/*.out; do
      echo
      echo "# Terminal transcript: $(basename "$f" .out)"
      sed -e 's/\x1b[[(][0-9;]*[A-Za-z]//g' -e 's/\r//g' -e 's/\x07//g' "$f"
    done
  } >"$SD/client.txt"
}
