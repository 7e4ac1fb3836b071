#!/usr/bin/env bash
# Rebuild every sample under samples/ from a live lab: network namespaces, a real IPVS-DR director
# (Debian's 6.1 kernel in a qemu VM; LAB_BACKEND=nftables: the older nftables imitation on this kernel),
# real MariaDB/PostgreSQL servers and clients. Run as root: `npm run samples:record`.
# Usage: bash samples/lab/record.sh [sample-name ...]   (no names = all samples)
# Sends packets only between the namespaces it creates (10.77.0.0/24); tears them down on exit.
set -Eeuo pipefail
if [ -n "${LAB_TRACE:-}" ]; then PS4='+ ${EPOCHREALTIME} '; set -x; fi

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SAMPLES_DIR=${LAB_SAMPLES_DIR:-$(cd "$LAB_DIR/.." && pwd)}
LAB_BACKEND=${LAB_BACKEND:-ipvs}
case "$LAB_BACKEND" in ipvs|nftables) ;; *) echo "LAB_BACKEND must be ipvs or nftables" >&2; exit 2 ;; esac
# shellcheck source=lib/topo.sh
source "$LAB_DIR/lib/topo.sh"
# shellcheck source=lib/director.sh
source "$LAB_DIR/lib/director.sh"
# shellcheck source=lib/servers.sh
source "$LAB_DIR/lib/servers.sh"
# shellcheck source=lib/run.sh
source "$LAB_DIR/lib/run.sh"
if [ "$LAB_BACKEND" = ipvs ]; then
  # shellcheck source=lib/ipvs.sh
  source "$LAB_DIR/lib/ipvs.sh"
fi

[ "$(id -u)" -eq 0 ] || { echo "record.sh must run as root (namespaces, nftables, tcpdump)" >&2; exit 1; }

# ---- dependencies (Debian packages; inside the VM they are the host's, already checked) ----
if [ -z "${LAB_IN_VM:-}" ]; then
  need=()
  deps="ip:iproute2 nft:nftables tcpdump:tcpdump tshark:tshark editcap:wireshark-common \
        capinfos:wireshark-common arping:arping mariadbd:mariadb-server mariadb:mariadb-client \
        psql:postgresql-client script:bsdutils node:nodejs gzip:gzip ethtool:ethtool setpriv:util-linux ss:iproute2"
  [ "$LAB_BACKEND" = ipvs ] && deps+=" qemu-system-x86_64:qemu-system-x86 ipvsadm:ipvsadm keepalived:keepalived \
        busybox:busybox-static depmod:kmod cpio:cpio"
  for pair in $deps; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
  done
  [ -n "$PG_BIN" ] || need+=(postgresql)
  if [ ${#need[@]} -gt 0 ] || { [ "$LAB_BACKEND" = ipvs ] && ! apt-cache show linux-image-amd64 >/dev/null 2>&1; }; then
    apt-get update
    [ ${#need[@]} -eq 0 ] || DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  fi
fi

# ---- scaled IPVS timeouts (seconds; the kernel defaults are 900/120/10/360) ----
TCP=6 FIN=3 CLOSE=2 PERS=8
MYSQL_CMD="mariadb --no-defaults -h $VIP -P 3306 -u root --reconnect"
PSQL_CMD="psql -X -P pager=off -h $VIP -p 5432 -U postgres"
CLIENT_IP=${HOST_IP[client]}

if [ -n "${LAB_IN_VM:-}" ]; then WORK=$LAB_WORK; else WORK=$(mktemp -d /tmp/lvscope-lab.XXXXXX); fi
chmod 755 "$WORK" # the postgres user must reach its data directory
if [ -n "${LAB_IN_VM:-}" ]; then SRV_WORK=/var/lib/lvscope-lab-srv; else SRV_WORK=$WORK; fi
VM_PID=

cleanup() {
  local rc=$?
  set +e
  local n
  for n in "${!SESSION_PID[@]}"; do kill "${SESSION_PID[$n]}" 2>/dev/null; done
  for n in "${!CAP_PID[@]}"; do kill -TERM "${CAP_PID[$n]}" 2>/dev/null; done
  [ "$LAB_BACKEND" = ipvs ] && [ -n "${LAB_IN_VM:-}" ] && ka_stop_all
  [ -n "$VM_PID" ] && kill "$VM_PID" 2>/dev/null
  servers_stop
  topo_down
  # Inside the VM $WORK is the host's (shared) folder: the host removes it.
  if [ -n "${KEEP_WORK:-}" ]; then echo "scratch kept in $WORK" >&2; elif [ -z "${LAB_IN_VM:-}" ]; then rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "record.sh: line $LINENO: \"$BASH_COMMAND\" failed" >&2' ERR
trap 'exit 130' INT TERM

# ---- per-sample frame ----
sample_begin() {
  SD="$SAMPLES_DIR/$1"
  SW="$WORK/$1"
  rm -rf "$SD" "$SW"
  mkdir -p "$SD" "$SW"
  CAP_HOST=()
  SAY_N=0
  fact name "$1"
  fact vip "$VIP"
  fact implementation "$LAB_BACKEND"
  fact kernel "$(uname -r)"
  echo "== $1" >&2
}

# sample_end <story line 1> <line 2> <line 3>
sample_end() {
  client_txt
  printf '# %s\n\n%s\n%s\n%s\n\nGround truth: `expected.json` (written by `samples/lab/record.sh` from what the lab did and counted).\n' \
    "$(basename "$SD")" "$1" "$2" "$3" >"$SD/README.md"
  fact story "$1 $2 $3"
  if [ -n "${LAB_IN_VM:-}" ]; then
    # node and tshark are slow under TCG: the host writes expected.json once the VM is done.
    echo "$SD $SW/facts.env" >>"$WORK/done.list"
  else
    node "$LAB_DIR/expected.mjs" "$SD" "$SW/facts.env"
  fi
}

# Hosts start each sample clean: VIP on director1 only, no director tables, no loss rules.
reset_lab() {
  local h
  if [ "$LAB_BACKEND" = ipvs ]; then
    ka_stop_all; sync_stop
    for h in director1 director2; do
      inns "$h" ipvsadm -C
      inns "$h" sysctl -qw net.ipv4.vs.expire_nodest_conn=0 net.ipv4.vs.conn_reuse_mode=1 \
        net.ipv4.vs.expire_quiescent_template=0
    done
  fi
  for h in director1 director2; do inns "$h" nft flush ruleset; vip_del "$h"; done
  for h in rs1 rs2 client bridge; do inns "$h" nft flush ruleset; done
  vip_add director1
  [ -z "${LAB_IN_VM:-}" ] || servers_ensure
  inns client ip neigh flush dev eth0
  # Sockets orphaned by an earlier sample would show up in this one's rs*-sockets.txt: abort them
  # now (before any capture starts).
  for h in rs1 rs2; do inns "$h" ss -K -tn state established >/dev/null 2>&1 || true; done
}

if [ "$LAB_BACKEND" = nftables ]; then
# rs_remove <director> <rs> <expire_nodest_conn> <remaining rs...>: ipvsadm -d of a real server.
rs_remove() {
  local d=$1 r=$2 nodest=$3; shift 3
  mark "rs_removed" "ipvsadm -d: $r removed from the service on $d (expire_nodest_conn=$nodest)"
  sched_rules "$d" 0 "$@"
  if [ "$nodest" = 0 ]; then
    # Entries to a deleted destination: packets dropped, timer not refreshed (ip_vs_in, !AVAILABLE).
    local s
    for s in es fw cl; do inns "$d" nft add rule netdev lvs nodest ip saddr . tcp sport "@${s}_$r" counter name "nodest_$r" drop; done
  else
    # Kernel >= 5.9: all entries of the deleted destination are expired at once.
    local s
    for s in es fw cl tpl; do inns "$d" nft flush set netdev lvs "${s}_$r"; done
  fi
}
rs_restore() {
  local d=$1; shift
  mark "rs_restored" "ipvsadm -a: $1 back in the service on $d"
  inns "$d" nft flush chain netdev lvs nodest
  sched_rules "$d" 0 "$@"
}

# sync_copy <from> <to>: what the IPVS sync daemon would have given the backup: every live entry,
# with a fresh timer of its state (the backup re-arms entries on receipt).
sync_copy() {
  local from=$1 to=$2 set elems
  for set in $(inns "$from" nft -j list sets netdev | node -e '
      const j = JSON.parse(require("fs").readFileSync(0, "utf8"));
      for (const o of j.nftables) if (o.set && /^(es|fw|cl)_/.test(o.set.name)) console.log(o.set.name)'); do
    elems=$(inns "$from" nft -j list set netdev lvs "$set" | node -e '
      const j = JSON.parse(require("fs").readFileSync(0, "utf8"));
      const out = [];
      for (const o of j.nftables) for (const e of (o.set && o.set.elem) || []) {
        const v = e.elem ? e.elem.val : e;
        out.push(v.concat[0] + " . " + v.concat[1]);
      }
      console.log(out.join(", "))')
    if [ -n "$elems" ]; then
      inns "$to" nft add element netdev lvs "$set" "{ $elems }"
      fact "synced_$set" "$elems"
    fi
  done
}

failover() {
  mark failover "keepalived MASTER director1 stops: VIP moves to director2, which sends gratuitous ARP"
  vip_del director1
  # keepalived removes its virtual servers when it stops: director1 no longer forwards anything.
  # (Its counters are read first: they are the exact count of what it forwarded.)
  counters director1 director1
  inns director1 nft delete table netdev lvs
  vip_add director2
  garp director2
}
snap() { :; } # ipvsadm snapshots: only on the real director
fi

rs_sockets() { inns "$1" ss -tn state established "( sport = :$2 )" >"$SD/$1-sockets.txt"; }

lab_counters() {
  local h
  for h in "$@"; do snap "$h" "end of the sample"; counters "$h" "$h"; fact counters "$h"; done
}

common_facts() { # <tcp> <fin> <persistence|0> <expire_nodest> <sync 0|1> <service port> <rs...>
  fact tcp "$1"; fact tcpfin "$2"; fact persistence "$3"; fact expire_nodest "$4"; fact sync "$5"
  fact service "$VIP:$6"; shift 6
  fact real_servers "$*"
}

# ============================ samples ============================

s_idle_expiry_mysql() {
  sample_begin idle-expiry-mysql
  reset_lab
  director_up director1 $TCP $FIN $CLOSE 0 3306 rs1
  common_facts $TCP $FIN 0 0 0 3306 rs1; fact directors director1
  cap_start director1 director -i eth0
  cap_start rs1 rs1 -i eth0
  cap_start client client -i eth0; client_capture_fact client
  session_start c1 client "$MYSQL_CMD"
  say c1 "select @@server_id as server, 'first query' as q;"
  sleep 1
  say c1 "select 2;"
  sleep 1
  mark idle "the client types nothing for the next 9.5 s"
  sleep 9.5
  say c1 "select now(), 'after idle' as q;"
  fact idle_query_label "after idle"
  sleep 1.5
  say c1 "select 'retry' as q;"
  sleep 1
  rs_sockets rs1 3306
  say c1 "quit"
  session_end c1
  lab_counters director1
  cap_stop_all
  publish director director.pcapng 0
  publish rs1 rs1.pcap.gz 2.5
  sample_end "A mariadb session idles 9.5 s, longer than the director's (scaled) 6 s tcp timeout, so its IPVS entry expires." \
    "The next query reaches the director with no entry; the director's own stack answers RST (director MAC, IP ID 0): ERROR 2013, then the client reconnects on a new port." \
    "rs1 never hears of it: its old socket stays ESTABLISHED (rs1-sockets.txt); rs1.pcap.gz's clock runs 2.5 s ahead."
}

s_idle_expiry_pg() {
  sample_begin idle-expiry-pg
  reset_lab
  director_up director1 $TCP $FIN $CLOSE 0 5432 rs1
  common_facts $TCP $FIN 0 0 0 5432 rs1; fact directors director1
  cap_start director1 director -i eth0 --time-stamp-precision=nano
  cap_start rs1 rs1 -i eth0
  cap_start client client -i eth0; client_capture_fact client
  session_start c1 client "$PSQL_CMD"
  say c1 "select 1 as first_query;"
  sleep 1
  say c1 "select 2;"
  sleep 1
  mark idle "the client types nothing for the next 9.5 s"
  sleep 9.5
  say c1 "select now(), 'after idle' as q;"
  sleep 1.5
  say c1 "select 'retry' as q;"
  sleep 1
  rs_sockets rs1 5432
  say c1 '\q'
  session_end c1
  lab_counters director1
  cap_stop_all
  publish director director.pcap 0
  publish rs1 rs1.pcap 0
  sample_end "A psql session idles 9.5 s, longer than the director's (scaled) 6 s tcp timeout, so its IPVS entry expires." \
    "The next query meets no entry: RST from the director's stack, and psql reports 'server closed the connection unexpectedly' before resetting the connection." \
    "The director capture is nanosecond pcap; rs1 keeps the old backend's socket ESTABLISHED (rs1-sockets.txt)."
}

failover_sample() { # <name> <sync 0|1> [tcp timeout] [idle before the failover]
  local name=$1 sync=$2 tcp=${3:-$TCP} idle=${4:-1.5}
  sample_begin "$name"
  reset_lab
  director_up director1 $tcp $FIN $CLOSE 0 3306 rs1
  director_up director2 $tcp $FIN $CLOSE 0 3306 rs1
  common_facts $tcp $FIN 0 0 "$sync" 3306 rs1; fact directors "director1 director2"
  if [ "$LAB_BACKEND" = ipvs ]; then
    # keepalived owns the VIP: director1 MASTER, director2 BACKUP; both have the service loaded.
    vip_del director1
    [ "$sync" = 1 ] && sync_start
    ka_start director1 MASTER 150
    ka_wait_vip director1
    ka_start director2 BACKUP 100
    sleep 3 # both VRRP instances settled (director2 has heard director1's adverts)
  fi
  if [ "$sync" = 0 ]; then
    cap_start director1 director1 -i eth0
    cap_start director2 director2 -i eth0
    cap_start rs1 rs1 -i eth0
  else
    cap_start director1 director1 -i eth0
    cap_start director2 director2 -i any -y LINUX_SLL2
    cap_start rs1 rs1 -i eth0
  fi
  cap_start client client -i eth0; client_capture_fact client
  session_start c1 client "$MYSQL_CMD"
  say c1 "select @@server_id as server, 'first query' as q;"
  sleep 1
  say c1 "select 2;"
  sleep "$idle"
  if [ "$sync" = 1 ] && [ "$LAB_BACKEND" = nftables ]; then
    mark sync "lvs_sync_daemon: director1's connection entries copied to director2"
    sync_copy director1 director2
  elif [ "$sync" = 1 ]; then
    sleep 2.5 # the sync daemon sends its buffer at least every 2 s
    snap director2 "the backup's synced entries"
  fi
  failover
  sleep 1.5
  say c1 "select now(), 'after failover' as q;"
  sleep 1.5
  say c1 "select 'next' as q;"
  sleep 1
  rs_sockets rs1 3306
  say c1 "quit"
  session_end c1
  lab_counters director2 # director1's were read at the failover
  cap_stop_all
}

s_failover_unsynced_mysql() {
  failover_sample failover-unsynced-mysql 0
  publish director1 director1.pcap 0
  publish director2 director2.pcapng 0
  publish rs1 rs1.pcap.gz -1.75
  sample_end "keepalived moves the VIP from director1 to director2 (gratuitous ARP) while a mariadb session is open; the directors do not sync connections." \
    "director2 has no entry for the session, so the next query gets RST from director2's stack: ERROR 2013, then ERROR 2006 and a reconnect through director2." \
    "rs1 ends with two ESTABLISHED connections from the client, the old one orphaned (rs1-sockets.txt); rs1.pcap.gz's clock runs 1.75 s behind."
}

s_failover_synced_mysql() {
  # On the real director a synced entry's timer on the backup runs from the last sync message (an idle
  # session sends none): the scaled tcp timeout must outlast the time to the failover.
  if [ "$LAB_BACKEND" = ipvs ]; then failover_sample failover-synced-mysql 1 30; else failover_sample failover-synced-mysql 1; fi
  publish director1 director1.pcap.gz 0
  publish director2 director2-any.pcap 0
  publish rs1 rs1.pcap 0
  sample_end "Control case: the same failover as failover-unsynced-mysql, but director1's entries were synced to director2 before it." \
    "director2 finds the session's entry and forwards the next query to rs1 (new source MAC on the forwarded copies): no reset, no reconnect." \
    "director2 was captured with -i any (LINUX_SLL2: no destination MACs); director1's capture is gzip."
}

s_failover_synced_idle_mysql() {
  failover_sample failover-synced-idle-mysql 1 $TCP 8
  publish director1 director1.pcapng 0
  publish director2 director2.pcap 0
  publish rs1 rs1.pcap -0.9
  sample_end "keepalived moves the VIP from director1 to director2 with the IPVS sync daemon running (master on director1, backup on director2), but the session idled 8 s first." \
    "The backup's synced entry was never refreshed (an idle connection sends no sync message) and expired after the scaled 6 s tcp timeout: director2 has no entry and its stack answers RST, ERROR 2013, reconnect." \
    "director2-ipvsadm.txt shows the synced entry counting down before the failover; rs1.pcap's clock runs 0.9 s behind."
}

s_persistence_expiry_mysql() {
  sample_begin persistence-expiry-mysql
  reset_lab
  director_up director1 $TCP $FIN $CLOSE $PERS 3306 rs1 rs2
  common_facts $TCP $FIN $PERS 0 0 3306 rs1 rs2; fact directors director1
  cap_start director1 director -i eth0
  cap_start rs1 rs1 -i eth0
  cap_start rs2 rs2 -i eth0
  cap_start client client -i eth0; client_capture_fact client
  local i gaps=(0 2 11)
  for i in 1 2 3; do
    sleep "${gaps[$((i - 1))]}"
    mark "visit_$i" "visit $i: new connection, select @@server_id"
    TERM=dumb inns client $MYSQL_CMD -e "select @@server_id as server, 'visit $i' as visit" >>"$SW/visits.out" 2>&1
  done
  sleep 1
  lab_counters director1
  cap_stop_all
  publish director director.pcapng 0
  publish rs1 rs1.pcap 0
  publish rs2 rs2.pcap -1.25
  sample_end "Three short mariadb connections from one client to a persistent service (scaled persistence 8 s): the first two land on the same real server (server_id in client.txt)." \
    "The third comes 11 s after the second, when the template has expired, and is scheduled afresh (round robin) to the other real server." \
    "No reset and no error: only the session state is lost. rs2.pcap's clock runs 1.25 s behind."
}

s_nodest_drop_mysql() {
  local tcp=20 # long enough that the entry outlives the outage (dropped packets do not refresh it)
  sample_begin rs-removed-nodest0-mysql
  reset_lab
  director_up director1 $tcp $FIN $CLOSE 0 3306 rs1
  common_facts $tcp $FIN 0 0 0 3306 rs1; fact directors director1
  cap_start director1 director -i eth0 --time-stamp-precision=nano
  cap_start rs1 rs1 -i eth0
  cap_start client client -i eth0; client_capture_fact client
  session_start c1 client "$MYSQL_CMD"
  say c1 "select @@server_id as server, 'first query' as q;"
  sleep 1
  rs_remove director1 rs1 0
  sleep 0.5
  say c1 "select now(), 'while removed' as q;"
  sleep 4.5
  rs_restore director1 rs1
  sleep 4
  say c1 "quit"
  session_end c1
  lab_counters director1
  cap_stop_all
  publish director director.pcap 0
  publish rs1 rs1.pcap 0
  sample_end "rs1 is removed from the service (ipvsadm -d) with expire_nodest_conn=0 while a mariadb session is open." \
    "The next query and its retransmissions (0.2, 0.4, 0.8, 1.6 s backoff) reach the director and are dropped silently: no RST, rs1 hears nothing, the query hangs." \
    "rs1 is added back 4.5 s later; the next retransmission is forwarded and the query completes. Scaled tcp timeout here is 20 s."
}

s_nodest_expire_mysql() {
  sample_begin rs-removed-nodest1-mysql
  reset_lab
  director_up director1 $TCP $FIN $CLOSE 0 3306 rs1
  common_facts $TCP $FIN 0 1 0 3306 rs1; fact directors director1
  cap_start director1 director -i eth0
  cap_start rs1 rs1 -i eth0
  cap_start client client -i eth0; client_capture_fact client
  session_start c1 client "$MYSQL_CMD"
  say c1 "select @@server_id as server, 'first query' as q;"
  sleep 1
  rs_remove director1 rs1 1
  sleep 0.5
  say c1 "select now(), 'after removal' as q;"
  sleep 1
  rs_restore director1 rs1
  sleep 0.5
  say c1 "select 'retry' as q;"
  sleep 1
  say c1 "quit"
  session_end c1
  lab_counters director1
  cap_stop_all
  publish director director.pcap 0
  publish rs1 rs1.pcapng 0
  sample_end "rs1 is removed from the service with expire_nodest_conn=1 (kernel >= 5.9: its entries are expired at once) while a mariadb session is open." \
    "The next query meets no entry and gets an immediate RST from the director's stack: ERROR 2013." \
    "rs1 is added back and the client's reconnect succeeds."
}

s_rs_killed_mysql() {
  local tcp=30 # no idle expiry may interfere with the restart
  sample_begin rs-killed-mysql
  reset_lab
  director_up director1 $tcp $FIN $CLOSE 0 3306 rs1
  common_facts $tcp $FIN 0 0 0 3306 rs1; fact directors director1
  cap_start director1 director -i eth0
  cap_start rs1 rs1 -i eth0 --time-stamp-precision=nano
  cap_start client client -i eth0; client_capture_fact client
  session_start c1 client "$MYSQL_CMD"
  session_start c2 client "$MYSQL_CMD"
  say c1 "select @@server_id as server, 'c1 first query' as q;"
  say c2 "select @@server_id as server, 'c2 first query' as q;"
  sleep 1
  mark rs_hung "mariadbd on rs1 hangs (SIGSTOP)"
  mysql_signal rs1 STOP
  sleep 0.3
  say c1 "select now(), 'c1 stuck query' as q;"
  sleep 1.5
  mark rs_killed "mariadbd on rs1 killed (SIGKILL): c1's socket has unread data -> RST; c2's idle socket -> FIN"
  mysql_signal rs1 KILL
  mysql_wait_dead rs1
  sleep 4 # > tcp_fin_timeout (3 s) on rs1: c2's orphaned socket is gone
  mark rs_restarted "mariadbd on rs1 restarted"
  mysql_start rs1
  sleep 0.5
  say c2 "select now(), 'c2 after restart' as q;"
  sleep 1
  say c2 "select 'c2 retry' as q;"
  say c1 "select 'c1 retry' as q;"
  sleep 1
  say c1 "quit"
  say c2 "quit"
  session_end c1
  session_end c2
  lab_counters director1
  cap_stop_all
  publish director director.pcap 0
  publish rs1 rs1.pcapng 0
  sample_end "Two mariadb sessions through the director to rs1. mariadbd hangs (SIGSTOP) while c1's query is in flight, then is killed (SIGKILL)." \
    "c1's socket dies with the query unread: RST+ACK from rs1's socket (non-zero IP ID), ERROR 2013. c2's idle socket gets a FIN the client never reads." \
    "After the restart c2's next query meets no socket on rs1: RST with IP ID 0 from rs1's MAC, ERROR 2013; both clients reconnect. Scaled tcp timeout 30 s."
}

s_loss_mysql() {
  sample_begin loss-mysql
  reset_lab
  director_up director1 $TCP $FIN $CLOSE 0 3306 rs1
  common_facts $TCP $FIN 0 0 0 3306 rs1; fact directors director1
  cap_start director1 director -i eth0
  cap_start rs1 rs1 -i eth0
  cap_start client client -i eth0; client_capture_fact client
  session_start c1 client "$MYSQL_CMD"
  # 3 % random loss of the director's DR copies on their way to rs1: on the bridge (forward hook), so
  # after the director's capture point and before rs1's. (At rs1's netdev ingress the drop would come
  # after rs1's AF_PACKET tap, which would then record every dropped frame.) Matching rs1's MAC and the
  # client->VIP service tuple drops only DR copies: never the director's own traffic, never ARP.
  # The loss runs only while the queries do, after the login and before the quit: a frame lost within
  # milliseconds of rs1's first or last captured frame cannot be proven lost from the captures alone.
  mark loss_on "3 % random loss of client frames on the path director1 -> rs1 begins"
  inns bridge nft -f - <<NFT
table bridge loss {
  counter lost { }
  chain path {
    type filter hook forward priority 0; policy accept;
    ether daddr ${HOST_MAC[rs1]} ip saddr $CLIENT_IP ip daddr $VIP tcp dport 3306 numgen random mod 100 < 3 counter name lost drop
  }
}
NFT
  local i
  for i in $(seq 1 150); do
    printf 'select %d as n, md5(%d) as h;\n' "$i" "$i" >&"${SESSION_FD[c1]}"
    sleep 0.03
  done
  mark queries "150 queries typed, 30 ms apart"
  sleep 2 # every lost segment is retransmitted (and delivered) long before this
  mark loss_off "the loss on the path ends (the counter is kept)"
  inns bridge nft flush chain bridge loss path
  say c1 "quit"
  session_end c1
  lab_counters director1
  counters bridge bridge; fact loss_counters bridge
  cap_stop_all
  publish director director.pcap.gz 0
  publish rs1 rs1.pcap 0
  publish client client.pcap 0
  sample_end "Healthy traffic: 150 quick queries in one mariadb session, with 3 % random loss of client frames between the director and rs1 while the queries run (an nft numgen rule on the bridge, counted)." \
    "Lost segments are retransmitted by the client; at the director each retransmission appears twice like every other frame (DR copy), so genuine and DR-copy retransmissions mix." \
    "No resets, no errors. Each lost frame leaves the director (director.pcap.gz) and never reaches rs1 (rs1.pcap); client.pcap is the client's own view (ground truth for its retransmissions)."
}

ALL=(idle-expiry-mysql idle-expiry-pg failover-unsynced-mysql failover-synced-mysql persistence-expiry-mysql
     rs-removed-nodest0-mysql rs-removed-nodest1-mysql rs-killed-mysql loss-mysql)
run_sample() {
  case "$1" in
    idle-expiry-mysql) s_idle_expiry_mysql ;;
    idle-expiry-pg) s_idle_expiry_pg ;;
    failover-unsynced-mysql) s_failover_unsynced_mysql ;;
    failover-synced-mysql) s_failover_synced_mysql ;;
    persistence-expiry-mysql) s_persistence_expiry_mysql ;;
    rs-removed-nodest0-mysql) s_nodest_drop_mysql ;;
    rs-removed-nodest1-mysql) s_nodest_expire_mysql ;;
    rs-killed-mysql) s_rs_killed_mysql ;;
    failover-synced-idle-mysql) s_failover_synced_idle_mysql ;;
    loss-mysql) s_loss_mysql ;;
    *) matrix_sample "$1" || { echo "unknown sample: $1 (known: ${ALL[*]})" >&2; return 1; } ;;
  esac
}

# shellcheck source=lib/matrix.sh
source "$LAB_DIR/lib/matrix.sh"
[ "$LAB_BACKEND" = ipvs ] && ALL+=("${MATRIX[@]}") # keepalived, ipvsadm -e/-p/-M: the real director's
todo=("$@")
[ ${#todo[@]} -gt 0 ] || todo=("${ALL[@]}")
for s in "${todo[@]}"; do case " ${ALL[*]} " in *" $s "*) ;; *) echo "unknown sample: $s (known: ${ALL[*]})" >&2; exit 2 ;; esac; done

if [ "$LAB_BACKEND" = ipvs ] && [ -z "${LAB_IN_VM:-}" ]; then
  # shellcheck source=vm/vm.sh
  source "$LAB_DIR/vm/vm.sh"
  vm_kernel
  servers_init "$WORK/srv" # natively: mariadb-install-db and initdb are slow under TCG
  t0=$(date +%s)
  vm_run "$WORK" "$SAMPLES_DIR" "${todo[@]}"
  echo "the VM recorded ${#todo[@]} sample(s) in $(( $(date +%s) - t0 )) s" >&2
  bad=()
  [ ! -e "$WORK/vm/failed.list" ] || mapfile -t bad <"$WORK/vm/failed.list"
  [ -e "$WORK/vm/done.list" ] || : >"$WORK/vm/done.list"
  while read -r sd facts; do node "$LAB_DIR/expected.mjs" "$sd" "$facts" || bad+=("$(basename "$sd")"); done <"$WORK/vm/done.list"
  [ ${#bad[@]} -eq 0 ] || { echo "failed (see $WORK/guest.log): ${bad[*]}" >&2; exit 1; }
  echo "done: ${todo[*]}" >&2
  exit 0
fi

[ "$LAB_BACKEND" = ipvs ] && modprobe -a ip_vs ip_vs_rr ip_vs_wrr veth bridge 8021q nf_tables
topo_up
if [ -n "${LAB_IN_VM:-}" ]; then servers_adopt "$LAB_WORK/../srv"; else servers_init "$SRV_WORK"; fi
mysql_start rs1; mysql_start rs2; pg_start rs1
if [ -z "${LAB_IN_VM:-}" ]; then
  for s in "${todo[@]}"; do run_sample "$s"; done
else
  # One failed sample must not cost the others a VM boot: each runs in a subshell (set -e active there),
  # its captures and sessions stopped if it fails; the host reports the failures.
  for s in "${todo[@]}"; do
    set +e
    (
      trap 'for n in "${!SESSION_PID[@]}"; do kill "${SESSION_PID[$n]}"; done; for n in "${!CAP_PID[@]}"; do kill "${CAP_PID[$n]}"; done' EXIT
      set -e
      run_sample "$s"
    )
    rc=$?
    set -e
    [ "$rc" = 0 ] || { echo "$s" >>"$WORK/failed.list"; echo "sample $s failed (exit $rc)" >&2; }
  done
fi
echo "done: ${todo[*]}" >&2
