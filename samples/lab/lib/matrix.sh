# The scenarios added for the matrix (issue 15), recorded on the real director (LAB_BACKEND=ipvs).
# Sourced by record.sh after its own samples; same conventions (sample_begin … sample_end).
# shellcheck shell=bash

PY=/usr/bin/python3

# A one-shot mariadb client (no pty: its stdout/stderr are the transcript <name>.out).
mysql_once() { # <name> <sql>
  TERM=dumb inns client mariadb --no-defaults -h "$VIP" -P 3306 -u root -e "$2" >>"$SW/$1.out" 2>&1 || true
}

s_idle_expiry_pg_any() {
  sample_begin idle-expiry-pg-any
  reset_lab
  director_up director1 $TCP $FIN $CLOSE 0 5432 rs1
  common_facts $TCP $FIN 0 0 0 5432 rs1; fact directors director1
  cap_start director1 director -i any -y LINUX_SLL2
  cap_start rs1 rs1 -i any -y LINUX_SLL2 --time-stamp-precision=nano
  cap_start client client -i eth0; client_capture_fact client
  session_start c1 client "$PSQL_CMD"
  say c1 "select 1 as first_query;"
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
  publish director director-any.pcapng 0
  publish rs1 rs1-any.pcap.gz 0.8
  sample_end "A psql session idles 9.5 s past the director's (scaled) 6 s tcp timeout: its IPVS entry expires." \
    "The next query meets no entry: RST from the director's stack; psql reports 'server closed the connection unexpectedly' and resets." \
    "Both captures were taken with tcpdump -i any (LINUX_SLL2: no destination MACs); rs1's is nanosecond pcap, gzip, its clock 0.8 s ahead."
}

s_persistence_any_mysql() {
  sample_begin persistence-expiry-any-mysql
  reset_lab
  director_up director1 $TCP $FIN $CLOSE $PERS 3306 rs1 rs2
  common_facts $TCP $FIN $PERS 0 0 3306 rs1 rs2; fact directors director1
  cap_start director1 director -i any -y LINUX_SLL2 --time-stamp-precision=nano
  cap_start rs1 rs1 -i eth0
  cap_start rs2 rs2 -i eth0
  cap_start client client -i eth0; client_capture_fact client
  local i gaps=(0 2 16)
  for i in 1 2 3; do
    sleep "${gaps[$((i - 1))]}"
    mark "visit_$i" "visit $i: new connection, select @@server_id"
    snap director1 "before visit $i"
    TERM=dumb inns client $MYSQL_CMD -e "select @@server_id as server, 'visit $i' as visit" >>"$SW/visits.out" 2>&1
  done
  sleep 1
  lab_counters director1
  cap_stop_all
  publish director director-any.pcap 0
  publish rs1 rs1.pcapng 0
  publish rs2 rs2.pcap.gz -0.6
  sample_end "Three short mariadb connections to a persistent service (ipvsadm -p 8): the first two land on rs1." \
    "The third comes 16 s after the second, once the template has expired, and is scheduled afresh to rs2 (server_id 2): no error, only the session's server changes." \
    "The director was captured with -i any (LINUX_SLL2, nanosecond pcap); both real servers' captures are given (rs2's gzip, 0.6 s behind); ipvsadm -Lnc before each visit shows the template."
}

s_halfclose_fin_wait() { # [name director-file rs1-file rs1-offset director-tcpdump-args...]
  local name=${1:-halfclose-fin-wait-tcp} dfile=${2:-director.pcap} rfile=${3:-rs1.pcapng} roff=${4:--1.3}
  shift 4 2>/dev/null || shift $#
  local dargs=("$@"); [ ${#dargs[@]} -gt 0 ] || dargs=(-i eth0)
  sample_begin "$name"; fact rules halfclose
  reset_lab
  director_up director1 $TCP $FIN $CLOSE 0 8000 rs1
  common_facts $TCP $FIN 0 0 0 8000 rs1; fact directors director1
  # A report service: reads the request to its end (the client's FIN), works 5 s, then answers.
  # -t 20: socat would otherwise end the session 0.5 s after the client's FIN, before the answer.
  ip netns exec "$(ns rs1)" socat -t 20 TCP-LISTEN:8000,bind=0.0.0.0,reuseaddr,fork \
    SYSTEM:'cat >/dev/null; sleep 5; echo report-ready' >/dev/null 2>&1 &
  SERVER_PID[rs1-report]=$!
  sleep 0.5
  cap_start director1 director "${dargs[@]}"
  cap_start rs1 rs1 -i eth0 --time-stamp-precision=nano
  cap_start client client -i eth0; client_capture_fact client
  mark request "the client sends its request and half-closes (shutdown SHUT_WR), then waits for the answer"
  inns client "$PY" - "$VIP" >"$SW/c1.out" 2>&1 <<'PY' || true
import socket, sys, time
s = socket.create_connection((sys.argv[1], 8000))
s.sendall(b'GET /report\n')
s.shutdown(socket.SHUT_WR)
print('sent the request, half-closed the socket; waiting for the report')
try:
    while True:
        b = s.recv(4096)
        if not b:
            print('server closed the connection')
            break
        print('received: %s' % b.decode().strip())
except ConnectionResetError as e:
    print('recv: Connection reset by peer (%s)' % e)
PY
  sleep 1
  snap director1 "after the answer"
  lab_counters director1
  cap_stop_all
  # The forked child still holds the half-closed connection: end it too, or its late FIN leaks into the next sample.
  pkill -KILL -P "${SERVER_PID[rs1-report]}" 2>/dev/null || true
  kill "${SERVER_PID[rs1-report]}" 2>/dev/null || true; unset "SERVER_PID[rs1-report]"
  inns rs1 ss -K -tn "( sport = :8000 )" >/dev/null 2>&1 || true
  publish director "$dfile" 0
  publish rs1 "$rfile" "$roff"
  sample_end "A client sends a request to a report service and half-closes its side (FIN): the director's entry moves to FIN_WAIT (scaled tcpfin 3 s)." \
    "The service answers 5 s later; the client's ACK of the answer reaches the director after the FIN_WAIT entry expired, and the director's stack answers RST: the client's recv fails with 'Connection reset by peer'." \
    "rs1 sent its answer and FIN normally. Captures: $dfile (director, tcpdump ${dargs[*]}), $rfile (rs1, clock offset $roff s)."
}

s_rs_refused_killed_mysql() {
  local tcp=30
  sample_begin rs-refused-and-killed-mysql
  reset_lab
  director_up director1 $tcp $FIN $CLOSE 0 3306 rs1 rs2
  common_facts $tcp $FIN 0 0 0 3306 rs1 rs2; fact directors director1
  mysql_signal rs2 TERM; mysql_wait_dead rs2
  mark rs2_down "mariadbd on rs2 is stopped: nothing listens on 3306 there"
  cap_start director1 director -i eth0
  cap_start rs1 rs1 -i eth0
  cap_start rs2 rs2 -i eth0 --time-stamp-precision=nano
  cap_start client client -i eth0; client_capture_fact client
  session_start c1 client "$MYSQL_CMD" # scheduled to rs1 (round robin, first)
  say c1 "select @@server_id as server, 'c1 first query' as q;"
  sleep 1
  mark refused "a second client connection: round robin sends it to rs2"
  mysql_once c2 "select @@server_id as server"
  sleep 1
  mark rs_hung "mariadbd on rs1 hangs (SIGSTOP)"
  mysql_signal rs1 STOP
  sleep 0.3
  say c1 "select now(), 'c1 stuck query' as q;"
  sleep 1.5
  mark rs_killed "mariadbd on rs1 killed (SIGKILL) with c1's query unread"
  mysql_signal rs1 KILL
  mysql_wait_dead rs1
  sleep 1
  say c1 "quit"
  session_end c1
  lab_counters director1
  cap_stop_all
  mysql_start rs1; mysql_start rs2
  publish director director.pcapng 0
  publish rs1 rs1.pcap 0
  publish rs2 rs2.pcap 2.2
  sample_end "Round robin over rs1 and rs2; mariadbd on rs2 is down, so the second connection's SYN is answered by rs2's kernel with RST+ACK: ERROR 2002 (connection refused)." \
    "Then mariadbd on rs1 hangs and is killed with c1's query unread: RST+ACK from rs1's socket, ERROR 2013." \
    "Both real servers' captures are given (rs2's nanosecond, 2.2 s ahead); the director forwarded everything."
}

s_weight0_vs_removed_mysql() {
  local tcp=20
  sample_begin weight0-vs-removed-mysql
  reset_lab
  director_up director1 $tcp $FIN $CLOSE 0 3306 rs1 rs2
  common_facts $tcp $FIN 0 0 0 3306 rs1 rs2; fact directors director1
  cap_start director1 director -i eth0
  cap_start rs1 rs1 -i eth0
  cap_start rs2 rs2 -i eth0
  cap_start client client -i eth0; client_capture_fact client
  session_start c1 client "$MYSQL_CMD" # rs1
  session_start c2 client "$MYSQL_CMD" # rs2
  say c1 "select @@server_id as server, 'c1 first query' as q;"
  say c2 "select @@server_id as server, 'c2 first query' as q;"
  sleep 1
  rs_weight director1 rs1 0
  sleep 0.5
  say c1 "select @@server_id as server, 'c1 after weight 0' as q;"
  mysql_once c3 "select @@server_id as server, 'new connection after weight 0' as q"
  sleep 1
  rs_remove director1 rs2 0
  sleep 0.5
  say c2 "select now(), 'c2 while rs2 removed' as q;"
  sleep 4.5
  rs_restore director1 rs2
  sleep 3
  say c1 "quit"
  say c2 "quit"
  session_end c1
  session_end c2
  lab_counters director1
  cap_stop_all
  publish director director.pcap.gz 0
  publish rs1 rs1.pcap 0
  publish rs2 rs2.pcapng -0.4
  sample_end "Two mariadb sessions, c1 on rs1 and c2 on rs2. rs1 is set to weight 0 (ipvsadm -e -w 0): c1 keeps working and a new connection goes to rs2 — no incident." \
    "rs2 is then removed (ipvsadm -d, expire_nodest_conn=0): c2's next query and its retransmissions are dropped silently by the director until rs2 is added back 4.5 s later." \
    "Scaled tcp timeout 20 s; rs2.pcapng's clock runs 0.4 s behind."
}

s_loss_rr_mysql() {
  local tcp=30 # under a starved TCG VM a session can pause for seconds: no idle expiry may interfere
  sample_begin loss-rr-many-mysql
  reset_lab
  director_up director1 $tcp $FIN $CLOSE 0 3306 rs1 rs2
  common_facts $tcp $FIN 0 0 0 3306 rs1 rs2; fact directors director1
  cap_start director1 director -i eth0
  cap_start rs1 rs1 -i eth0
  cap_start rs2 rs2 -i eth0
  cap_start client client -i eth0; client_capture_fact client
  local c
  for c in c1 c2 c3 c4; do session_start "$c" client "$MYSQL_CMD"; done
  mark loss_on "2 % random loss of client frames on the paths director1 -> rs1 and -> rs2 begins"
  inns bridge nft -f - <<NFT
table bridge loss {
  counter lost { }
  chain path {
    type filter hook forward priority 0; policy accept;
    ether daddr { ${HOST_MAC[rs1]}, ${HOST_MAC[rs2]} } ip saddr $CLIENT_IP ip daddr $VIP tcp dport 3306 numgen random mod 100 < 2 counter name lost drop
  }
}
NFT
  local i
  for i in $(seq 1 30); do
    for c in c1 c2 c3 c4; do printf 'select %d as n, md5(%d) as h;\n' "$i" "$i" >&"${SESSION_FD[$c]}"; done
    sleep 0.08
  done
  mark queries "30 queries typed in each of 4 sessions"
  sleep 3
  mark loss_off "the loss on the path ends (the counter is kept)"
  inns bridge nft flush chain bridge loss path
  for c in c1 c2 c3 c4; do say "$c" "quit"; done
  for c in c1 c2 c3 c4; do session_end "$c"; done
  lab_counters director1
  counters bridge bridge; fact loss_counters bridge
  cap_stop_all
  inns bridge nft delete table bridge loss
  publish director director.pcapng 0
  publish rs1 rs1.pcap 0
  publish rs2 rs2.pcap.gz 1.1
  publish client client.pcap 0
  sample_end "Four mariadb sessions from one client, round robin (not persistent) over rs1 and rs2, 30 queries each, with 2 % random loss of client frames between the director and the real servers." \
    "Lost segments are retransmitted by the client; connections land on different real servers by design (round robin), which is no re-schedule." \
    "No resets, no errors. client.pcap is the client's own view; rs2.pcap.gz's clock runs 1.1 s ahead."
}

# failover-stale-arp-mysql: keepalived fails over, but director2's gratuitous ARP never reaches the client
# (dropped on the bridge, as a switch with ARP inspection would): the client keeps sending to director1's MAC.
s_failover_stale_arp_mysql() {
  sample_begin failover-stale-arp-mysql
  reset_lab
  director_up director1 $TCP $FIN $CLOSE 0 3306 rs1
  director_up director2 $TCP $FIN $CLOSE 0 3306 rs1
  common_facts $TCP $FIN 0 0 0 3306 rs1; fact directors "director1 director2"
  vip_del director1
  ka_start director1 MASTER 150
  ka_wait_vip director1
  ka_start director2 BACKUP 100
  sleep 3
  # The client's neighbour cache, scaled like the timeouts: an entry goes stale 2-6 s after its last
  # confirmation (kernel default 15-45 s).
  inns client sysctl -qw net.ipv4.neigh.eth0.base_reachable_time_ms=4000 net.ipv4.neigh.eth0.delay_first_probe_time=1
  inns bridge nft -f - <<NFT
table bridge garp {
  counter garp_dropped { }
  chain path {
    type filter hook forward priority 0; policy accept;
    ether saddr ${HOST_MAC[director2]} arp operation request arp saddr ip $VIP arp daddr ip $VIP counter name garp_dropped drop
  }
}
NFT
  cap_start director1 director1 -i eth0
  cap_start director2 director2 -i eth0 --time-stamp-precision=nano
  cap_start rs1 rs1 -i eth0
  cap_start client client -i eth0; client_capture_fact client
  session_start c1 client "$MYSQL_CMD"
  say c1 "select @@server_id as server, 'first query' as q;"
  sleep 1.5
  failover
  sleep 0.5
  say c1 "select now(), 'after failover' as q;"
  sleep 14
  say c1 "select 'next' as q;"
  sleep 1
  rs_sockets rs1 3306
  say c1 "quit"
  session_end c1
  lab_counters director2
  counters bridge bridge
  cap_stop_all
  inns bridge nft delete table bridge garp
  publish director1 director1.pcap 0
  publish director2 director2.pcap 0
  publish rs1 rs1.pcap.gz 0.45
  sample_end "keepalived moves the VIP from director1 to director2, but director2's gratuitous ARP is dropped on the way (bridge rule, as an ARP-inspecting switch would): the client's neighbour entry still points at director1." \
    "The next query goes to director1's MAC, where the VIP is gone: dropped, retransmitted, until the client's ARP entry goes stale and a fresh ARP finds director2." \
    "director2 has no entry (no sync): RST from director2, ERROR 2013, reconnect. rs1.pcap.gz's clock runs 0.45 s ahead."
}

MATRIX=(failover-synced-idle-mysql idle-expiry-pg-any persistence-expiry-any-mysql halfclose-fin-wait-tcp rs-refused-and-killed-mysql
        weight0-vs-removed-mysql loss-rr-many-mysql failover-stale-arp-mysql)
matrix_sample() {
  case "$1" in
    idle-expiry-pg-any) s_idle_expiry_pg_any ;;
    persistence-expiry-any-mysql) s_persistence_any_mysql ;;
    halfclose-fin-wait-tcp) s_halfclose_fin_wait ;;
    rs-refused-and-killed-mysql) s_rs_refused_killed_mysql ;;
    weight0-vs-removed-mysql) s_weight0_vs_removed_mysql ;;
    loss-rr-many-mysql) s_loss_rr_mysql ;;
    failover-stale-arp-mysql) s_failover_stale_arp_mysql ;;
    *) variant_sample "$1" ;;
  esac
}

# ---- variants: the same incident classes on other link types, formats, clocks, schedulers, databases ----
# Each states the rules expected.mjs applies (fact rules), so ground truth is located the same way.

# idle_variant <name> <service port> <rs...>: the frame of a sample where a session idles past the tcp timeout.
idle_variant() {
  local name=$1 port=$2; shift 2
  sample_begin "$name"; fact rules idle-expiry
  reset_lab
  director_up director1 $TCP $FIN $CLOSE 0 "$port" "$@"
  common_facts $TCP $FIN 0 0 0 "$port" "$@"; fact directors director1
}

s_idle_two_sessions_mysql() {
  idle_variant idle-expiry-two-sessions-mysql 3306 rs1
  cap_start director1 director -i eth0 --time-stamp-precision=nano
  cap_start rs1 rs1 -i eth0
  cap_start client client -i eth0; client_capture_fact client
  session_start c1 client "$MYSQL_CMD"
  session_start c2 client "$MYSQL_CMD"
  say c1 "select @@server_id as server, 'c1 first query' as q;"
  say c2 "select @@server_id as server, 'c2 first query' as q;"
  mark idle "c1 types nothing for the next 10 s; c2 queries every 2 s"
  local i
  for i in 1 2 3 4 5; do sleep 2; say c2 "select $i as c2_busy;"; done
  say c1 "select now(), 'c1 after idle' as q;"
  sleep 1.5
  say c1 "select 'c1 retry' as q;"
  sleep 1
  say c1 "quit"; say c2 "quit"
  session_end c1; session_end c2
  lab_counters director1
  cap_stop_all
  publish director director.pcap.gz 0
  publish rs1 rs1.pcapng 3.5
  sample_end "Two mariadb sessions from one client: c1 idles 10 s past the (scaled) 6 s tcp timeout while c2 queries every 2 s." \
    "Only c1's entry expires: its next query gets RST from the director's stack (ERROR 2013, reconnect); c2 is never disturbed." \
    "The director capture is nanosecond pcap, gzip; rs1.pcapng's clock runs 3.5 s ahead."
}

s_idle_wlc_any_mysql() {
  SCHED=wlc idle_variant idle-expiry-wlc-any-mysql 3306 rs1 rs2
  fact scheduler wlc
  cap_start director1 director -i any -y LINUX_SLL2
  cap_start rs1 rs1 -i eth0
  cap_start rs2 rs2 -i eth0
  cap_start client client -i eth0; client_capture_fact client
  session_start c1 client "$MYSQL_CMD"
  say c1 "select @@server_id as server, 'first query' as q;"
  sleep 1
  mark idle "the client types nothing for the next 9 s"
  sleep 9
  say c1 "select now(), 'after idle' as q;"
  sleep 1.5
  say c1 "select @@server_id as server, 'retry' as q;"
  sleep 1
  say c1 "quit"
  session_end c1
  lab_counters director1
  cap_stop_all
  publish director director-any.pcapng.gz 0
  publish rs1 rs1.pcap -2.75
  publish rs2 rs2.pcap -2.75
  sample_end "A mariadb session through a weighted-least-connection service (ipvsadm -s wlc) over rs1 and rs2 idles 9 s past the scaled 6 s tcp timeout." \
    "Its next query meets no entry: RST from the director's stack, ERROR 2013; the reconnect may land on either real server." \
    "The director was captured with -i any (LINUX_SLL2) as gzip pcapng; both real servers' clocks run 2.75 s behind."
}

s_nodest1_pg() {
  sample_begin rs-removed-nodest1-pg; fact rules nodest1
  reset_lab
  director_up director1 $TCP $FIN $CLOSE 0 5432 rs1
  common_facts $TCP $FIN 0 1 0 5432 rs1; fact directors director1
  cap_start director1 director -i eth0
  cap_start rs1 rs1 -i any -y LINUX_SLL2
  cap_start client client -i eth0; client_capture_fact client
  session_start c1 client "$PSQL_CMD"
  say c1 "select 1 as first_query;"
  sleep 1
  rs_remove director1 rs1 1
  sleep 0.5
  say c1 "select now(), 'after removal' as q;"
  sleep 1
  rs_restore director1 rs1
  sleep 0.5
  say c1 "select 'retry' as q;"
  sleep 1
  say c1 '\q'
  session_end c1
  lab_counters director1
  cap_stop_all
  publish director director.pcapng 0
  publish rs1 rs1-any.pcap 1.6
  sample_end "rs1 is removed (ipvsadm -d) with expire_nodest_conn=1 on a 6.1 kernel while a psql session is open: its entries are expired by the kernel's flush." \
    "The next query meets no entry and gets RST from the director's stack: psql reports 'server closed the connection unexpectedly' and resets once rs1 is back." \
    "rs1 was captured with -i any (LINUX_SLL2), its clock 1.6 s ahead."
}

s_nodest1_any_mysql() {
  sample_begin rs-removed-nodest1-any-mysql; fact rules nodest1
  reset_lab
  director_up director1 $TCP $FIN $CLOSE 0 3306 rs1 rs2
  common_facts $TCP $FIN 0 1 0 3306 rs1 rs2; fact directors director1
  cap_start director1 director -i any -y LINUX_SLL2
  cap_start rs1 rs1 -i eth0 --time-stamp-precision=nano
  cap_start rs2 rs2 -i eth0
  cap_start client client -i eth0; client_capture_fact client
  session_start c1 client "$MYSQL_CMD" # rs1 (round robin, first)
  say c1 "select @@server_id as server, 'first query' as q;"
  sleep 1
  rs_remove director1 rs1 1
  sleep 0.5
  say c1 "select now(), 'after removal' as q;"
  sleep 1
  say c1 "select @@server_id as server, 'retry' as q;"
  sleep 1
  say c1 "quit"
  session_end c1
  lab_counters director1
  cap_stop_all
  publish director director-any.pcap 0
  publish rs1 rs1.pcap -0.3
  publish rs2 rs2.pcapng 0
  sample_end "rs1 is removed from a two-server service with expire_nodest_conn=1 while a mariadb session on it is open." \
    "The next query meets no entry: RST from the director's stack, ERROR 2013; the reconnect is scheduled to rs2 (server_id 2)." \
    "The director was captured with -i any (LINUX_SLL2); rs1's capture is nanosecond pcap, 0.3 s behind."
}

s_nodest0_pg() {
  local tcp=20
  sample_begin rs-removed-nodest0-pg; fact rules nodest0
  reset_lab
  director_up director1 $tcp $FIN $CLOSE 0 5432 rs1
  common_facts $tcp $FIN 0 0 0 5432 rs1; fact directors director1
  cap_start director1 director -i eth0
  cap_start rs1 rs1 -i eth0 --time-stamp-precision=nano
  cap_start client client -i eth0; client_capture_fact client
  session_start c1 client "$PSQL_CMD"
  say c1 "select 1 as first_query;"
  sleep 1
  rs_remove director1 rs1 0
  sleep 0.5
  say c1 "select now(), 'while removed' as q;"
  sleep 4.5
  rs_restore director1 rs1
  sleep 4
  say c1 '\q'
  session_end c1
  lab_counters director1
  cap_stop_all
  publish director director.pcapng 0
  publish rs1 rs1.pcap.gz -4.2
  sample_end "rs1 is removed (ipvsadm -d, expire_nodest_conn=0) while a psql session is open." \
    "The next query and its retransmissions are dropped silently by the director: psql hangs until rs1 is added back 4.5 s later, then the query completes." \
    "Scaled tcp timeout 20 s; rs1.pcap.gz (nanosecond) runs 4.2 s behind."
}

s_loss_pg() {
  local tcp=30 # see loss-rr-many-mysql
  sample_begin loss-pg; fact rules loss
  reset_lab
  director_up director1 $tcp $FIN $CLOSE 0 5432 rs1
  common_facts $tcp $FIN 0 0 0 5432 rs1; fact directors director1
  cap_start director1 director -i any -y LINUX_SLL2
  cap_start rs1 rs1 -i eth0
  cap_start client client -i eth0; client_capture_fact client
  session_start c1 client "$PSQL_CMD"
  mark loss_on "3 % random loss of client frames on the path director1 -> rs1 begins"
  inns bridge nft -f - <<NFT
table bridge loss {
  counter lost { }
  chain path {
    type filter hook forward priority 0; policy accept;
    ether daddr ${HOST_MAC[rs1]} ip saddr $CLIENT_IP ip daddr $VIP tcp dport 5432 numgen random mod 100 < 3 counter name lost drop
  }
}
NFT
  local i
  for i in $(seq 1 100); do
    printf "select %d as n, md5('%d') as h;\n" "$i" "$i" >&"${SESSION_FD[c1]}"
    sleep 0.04
  done
  mark queries "100 queries typed, 40 ms apart"
  sleep 3
  mark loss_off "the loss on the path ends (the counter is kept)"
  inns bridge nft flush chain bridge loss path
  say c1 '\q'
  session_end c1
  lab_counters director1
  counters bridge bridge; fact loss_counters bridge
  cap_stop_all
  inns bridge nft delete table bridge loss
  publish director director-any.pcapng 0
  publish rs1 rs1.pcap 0.7
  publish client client.pcapng 0
  sample_end "Healthy PostgreSQL traffic: 100 quick queries in one psql session with 3 % random loss of client frames between the director and rs1." \
    "The client retransmits what was lost; no resets, no errors." \
    "The director was captured with -i any (LINUX_SLL2); rs1.pcap's clock runs 0.7 s ahead; client.pcapng is the client's own view."
}

s_failover_unsynced_pg() {
  sample_begin failover-unsynced-pg; fact rules failover-unsynced
  reset_lab
  director_up director1 $TCP $FIN $CLOSE 0 5432 rs1
  director_up director2 $TCP $FIN $CLOSE 0 5432 rs1
  common_facts $TCP $FIN 0 0 0 5432 rs1; fact directors "director1 director2"
  vip_del director1
  ka_start director1 MASTER 150
  ka_wait_vip director1
  ka_start director2 BACKUP 100
  sleep 3
  cap_start director1 director1 -i eth0 --time-stamp-precision=nano
  cap_start director2 director2 -i any -y LINUX_SLL2
  cap_start rs1 rs1 -i eth0
  cap_start client client -i eth0; client_capture_fact client
  session_start c1 client "$PSQL_CMD"
  say c1 "select 1 as first_query;"
  sleep 1.5
  failover
  sleep 1
  say c1 "select now(), 'after failover' as q;"
  sleep 1.5
  say c1 "select 'next' as q;"
  sleep 1
  rs_sockets rs1 5432
  say c1 '\q'
  session_end c1
  lab_counters director2
  cap_stop_all
  publish director1 director1.pcap 0
  publish director2 director2-any.pcapng 0
  publish rs1 rs1.pcap 5.0
  sample_end "keepalived moves the VIP from director1 to director2 (gratuitous ARP) while a psql session is open; no connection sync." \
    "director2 has no entry for the session: RST from director2's stack, psql reports 'server closed the connection unexpectedly' and resets through director2." \
    "director2 was captured with -i any (LINUX_SLL2); rs1.pcap's clock runs 5 s ahead."
}

MATRIX+=(idle-expiry-two-sessions-mysql idle-expiry-wlc-any-mysql rs-removed-nodest1-pg rs-removed-nodest1-any-mysql
         rs-removed-nodest0-pg loss-pg failover-unsynced-pg halfclose-fin-wait-any-tcp)
variant_sample() {
  case "$1" in
    idle-expiry-two-sessions-mysql) s_idle_two_sessions_mysql ;;
    idle-expiry-wlc-any-mysql) s_idle_wlc_any_mysql ;;
    rs-removed-nodest1-pg) s_nodest1_pg ;;
    rs-removed-nodest1-any-mysql) s_nodest1_any_mysql ;;
    rs-removed-nodest0-pg) s_nodest0_pg ;;
    loss-pg) s_loss_pg ;;
    failover-unsynced-pg) s_failover_unsynced_pg ;;
    halfclose-fin-wait-any-tcp) s_halfclose_fin_wait halfclose-fin-wait-any-tcp director-any.pcapng rs1.pcap.gz 0.25 -i any -y LINUX_SLL2 ;;
    *) return 1 ;;
  esac
}
