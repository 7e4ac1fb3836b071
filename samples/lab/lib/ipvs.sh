# The real director: Linux IPVS (ip_vs, DR forwarding) driven by ipvsadm, and keepalived for VRRP.
# Sourced by record.sh inside the lab VM (LAB_BACKEND=ipvs); it replaces lib/director.sh's functions of
# the same names, so the samples read the same on either back end. Needs topo.sh and run.sh.
# shellcheck shell=bash

declare -A KA_PID=() SVC_OF=()
IPVS_CLOSE=10 # the close timeout is not settable (ipvsadm --set takes tcp, tcpfin, udp only)

# svc <director>: the ipvsadm service argument of the director's one virtual service.
svc() { echo "-t ${SVC_OF[$1]}"; }

# director_up <director> <tcp> <tcpfin> <close: ignored> <persistence|0> <port> <rs...>
director_up() {
  local d=$1 tcp=$2 fin=$3 pers=$5 port=$6; shift 6
  SVC_OF[$d]="$VIP:$port"
  inns "$d" ipvsadm -C
  inns "$d" ipvsadm --set "$tcp" "$fin" 30
  local p=()
  [ "$pers" -gt 0 ] && p=(-p "$pers" ${PERS_NETMASK:+-M "$PERS_NETMASK"})
  inns "$d" ipvsadm -A $(svc "$d") -s "${SCHED:-rr}" "${p[@]}"
  # IPVS puts each new destination at the head of the service's list and round robin starts there: added
  # last to first, the first real server named gets the first connection (as the samples' stories say).
  local i
  for (( i = $#; i >= 1; i-- )); do inns "$d" ipvsadm -a $(svc "$d") -r "${HOST_IP[${!i}]}:$port" -g -w 1; done
}

# ipvs_sysctl <director> <name> <value>: net.ipv4.vs.<name> in the director's namespace (a fact too).
ipvs_sysctl() { inns "$1" sysctl -qw "net.ipv4.vs.$2=$3"; fact "sysctl_$1_$2" "$3"; }

rs_port() { echo "${SVC_OF[$1]##*:}"; }

# rs_remove <director> <rs> <expire_nodest_conn> <remaining rs...>: ipvsadm -d of a real server.
rs_remove() {
  local d=$1 r=$2 nodest=$3
  ipvs_sysctl "$d" expire_nodest_conn "$nodest"
  snap "$d" "before ipvsadm -d $r"
  mark "rs_removed" "ipvsadm -d: $r removed from the service on $d (expire_nodest_conn=$nodest)"
  inns "$d" ipvsadm -d $(svc "$d") -r "${HOST_IP[$r]}:$(rs_port "$d")"
  snap "$d" "after ipvsadm -d $r"
}
rs_restore() {
  local d=$1 r=$2
  mark "rs_restored" "ipvsadm -a: $r back in the service on $d"
  inns "$d" ipvsadm -a $(svc "$d") -r "${HOST_IP[$r]}:$(rs_port "$d")" -g -w 1
  snap "$d" "after ipvsadm -a $r"
}
# rs_weight <director> <rs> <weight>: ipvsadm -e (weight 0 = quiesced: no new connections).
rs_weight() {
  local d=$1 r=$2 w=$3
  mark "rs_weight_$w" "ipvsadm -e: $r weight $w on $d"
  inns "$d" ipvsadm -e $(svc "$d") -r "${HOST_IP[$r]}:$(rs_port "$d")" -g -w "$w"
  snap "$d" "after ipvsadm -e $r -w $w"
}

# snap <director> <label>: what an operator would look at — the connection table and the stats —
# appended, with the time, to the sample's <director>-ipvsadm.txt (committed beside the captures).
snap() {
  local d=$1 f="$SD/$1-ipvsadm.txt"
  {
    printf '### %s  %s\n$ ipvsadm -Lnc\n' "$(now)" "$2"
    inns "$d" ipvsadm -Lnc
    printf '$ ipvsadm -Ln --stats --exact\n'
    inns "$d" ipvsadm -Ln --stats --exact
    echo
  } >>"$f"
}

# counters <host> <label>: a director's exact per-real-server stats (parsed by expected.mjs); any other
# host's nft counters (the bridge's loss rule) as on the nftables back end.
counters() {
  case "$1" in
    director*) inns "$1" ipvsadm -Ln --stats --exact >"$SW/counters-$2.txt" ;;
    *) inns "$1" nft -j list counters >"$SW/counters-$2.json" ;;
  esac
}

# ---- keepalived (VRRP) between the director namespaces ----
# ka_start <director> <MASTER|BACKUP> <priority> [no-garp]: keepalived's VRRP instance owns the VIP
# (the virtual service itself is ipvsadm's, on both directors, as keepalived would also load it on the backup).
ka_start() {
  local d=$1 state=$2 prio=$3 conf="$SW/keepalived-$1.conf"
  cat >"$conf" <<KA
global_defs {
  router_id $d
  vrrp_garp_master_delay 0
  vrrp_garp_master_repeat 1
  vrrp_garp_master_refresh 0
  vrrp_garp_lower_prio_repeat 0
  script_user root
  enable_script_security
}
vrrp_instance VI_LAB {
  state $state
  interface eth0
  virtual_router_id 77
  priority $prio
  advert_int 1
  nopreempt
  virtual_ipaddress {
    $VIP/32 dev eth0
  }
}
KA
  ip netns exec "$(ns "$d")" keepalived -P -n -l -D -G -f "$conf" -p "$SW/ka-$d.pid" -r "$SW/ka-$d-vrrp.pid" \
    >"$SW/keepalived-$d.log" 2>&1 &
  KA_PID[$d]=$!
  # Samples run in subshells inside the VM: the file remembers which keepalived we started, for the next one.
  echo "$d ${KA_PID[$d]}" >>"$SRV_WORK/keepalived.pids"
}
ka_stop() {
  local d=$1 p
  p=${KA_PID[$d]:-}
  if [ -z "$p" ] && [ -e "$SRV_WORK/keepalived.pids" ]; then
    p=$(awk -v d="$d" '$1 == d {p = $2} END {print p}' "$SRV_WORK/keepalived.pids")
  fi
  [ -n "$p" ] || return 0
  kill -TERM "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || while kill -0 "$p" 2>/dev/null; do sleep 0.1; done
  unset "KA_PID[$d]"
  [ -e "$SRV_WORK/keepalived.pids" ] && sed -i "/^$d /d" "$SRV_WORK/keepalived.pids"
  return 0
}
ka_stop_all() { local d; for d in director1 director2; do ka_stop "$d"; done; }
# ka_wait_vip <director> [seconds]: until keepalived has put the VIP on the director's eth0.
ka_wait_vip() {
  local i
  for i in $(seq $(( ${2:-10} * 10 ))); do
    inns "$1" ip -o addr show dev eth0 | grep -q " $VIP/" && return 0
    sleep 0.1
  done
  echo "keepalived did not give $1 the VIP" >&2; return 1
}

# failover: keepalived's MASTER (director1) stops: it drops the VIP (priority-0 advert) and, as keepalived
# does with the virtual servers it loaded, the service goes with it; director2's keepalived becomes MASTER,
# takes the VIP and sends its gratuitous ARP.
failover() {
  snap director1 "before the failover"
  snap director2 "before the failover"
  mark failover "keepalived on director1 stops (SIGTERM): VRRP moves the VIP to director2, which sends gratuitous ARP"
  counters director1 director1
  ka_stop director1
  inns director1 ipvsadm -C
  ka_wait_vip director2
  mark failover_done "director2 holds the VIP"
  sleep 0.5
  snap director2 "after the failover"
}

# sync_start: the real IPVS sync daemon, director1 master, director2 backup (multicast on eth0).
sync_start() {
  inns director1 ipvsadm --start-daemon master --mcast-interface eth0 --syncid 77
  inns director2 ipvsadm --start-daemon backup --mcast-interface eth0 --syncid 77
  fact sync_daemon "master director1, backup director2, syncid 77"
}
sync_stop() {
  local d m
  for d in director1 director2; do for m in master backup; do inns "$d" ipvsadm --stop-daemon "$m" 2>/dev/null || true; done; done
}
