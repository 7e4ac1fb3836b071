# IPVS-DR director emulated in nftables (netdev ingress on the director's eth0).
# Sourced by record.sh; needs lib/topo.sh. See samples/lab/README.md for what is faithful.
# shellcheck shell=bash

# The connection table is a family of dynamic sets keyed by (client address, client port), one set per
# IPVS state class and real server, each with its scaled IPVS timeout; "update" re-arms the timer.
#   es_<rs>: SYN_RECV + ESTABLISHED (timeout tcp)   fw_<rs>: FIN_WAIT (timeout tcpfin)
#   cl_<rs>: CLOSE (timeout close)                   tpl_<rs>: persistence template, keyed by client address
# director_rules <director> <tcp> <tcpfin> <close> <persistence|0> <ports csv> <rs...>
director_rules() {
  local d=$1 tcp=$2 fin=$3 close=$4 pers=$5 ports=$6; shift 6
  local rss=("$@") dmac=${HOST_MAC[$d]} r k='ip saddr . tcp sport'
  echo "table netdev lvs {"
  for r in "${rss[@]}"; do
    cat <<SETS
  set es_$r { type ipv4_addr . inet_service; flags dynamic,timeout; timeout ${tcp}s; }
  set fw_$r { type ipv4_addr . inet_service; flags dynamic,timeout; timeout ${fin}s; }
  set cl_$r { type ipv4_addr . inet_service; flags dynamic,timeout; timeout ${close}s; }
  set tpl_$r { type ipv4_addr; flags dynamic,timeout; timeout $(( pers > 0 ? pers : 1 ))s; }
  counter fwd_$r { }
  counter nodest_$r { }
SETS
  done
  cat <<HEAD
  counter inbound { }
  counter local { }
  chain nodest { }
  chain sched { }
HEAD
  for r in "${rss[@]}"; do
    # MAC rewrite both ways: source = director (the bridge must not learn the client's MAC on the
    # director's port), destination = real server. TTL-1 as IPVS does since ~4.3 (clients send 64).
    cat <<CH
  chain fwd_$r { ether saddr set $dmac ether daddr set ${HOST_MAC[$r]} ip ttl set 63 counter name fwd_$r fwd to "eth0"; }
  chain es_$r {
    tcp flags & rst == rst delete @es_$r { $k } update @cl_$r { $k } goto fwd_$r
    tcp flags & (syn|fin|ack) == 0 delete @es_$r { $k } update @cl_$r { $k } goto fwd_$r
    tcp flags & (syn|fin) == fin delete @es_$r { $k } update @fw_$r { $k } goto fwd_$r
    update @es_$r { $k } goto fwd_$r
  }
  chain fw_$r {
    tcp flags & rst == rst delete @fw_$r { $k } update @cl_$r { $k } goto fwd_$r
    tcp flags & syn == syn delete @fw_$r { $k } update @es_$r { $k } goto fwd_$r
    update @fw_$r { $k } goto fwd_$r
  }
  chain cl_$r {
    tcp flags & (syn|rst) == syn delete @cl_$r { $k } return
    update @cl_$r { $k } goto fwd_$r
  }
  chain new_$r {
$( [ "$pers" -gt 0 ] && echo "    update @tpl_$r { ip saddr }" )
    update @es_$r { $k } goto fwd_$r
  }
CH
  done
  cat <<IN
  chain in {
    type filter hook ingress device "eth0" priority 0; policy accept;
    ether daddr != $dmac return
    ether type != ip return
    ip daddr != $VIP return
    ip protocol != tcp return
    tcp dport != { $ports } return
    counter name inbound
    jump nodest
IN
  for r in "${rss[@]}"; do
    echo "    $k @es_$r jump es_$r"
    echo "    $k @fw_$r jump fw_$r"
    echo "    $k @cl_$r jump cl_$r"
  done
  cat <<TAIL
    tcp flags & (syn|rst) == syn jump sched
    counter name local accept
  }
}
TAIL
}

# sched_rules <director> <persistence> <rs...>: (re)build the scheduler over the available real servers.
sched_rules() {
  local d=$1 pers=$2; shift 2
  local rss=("$@") r n=${#rss[@]} i=0 vmap=""
  inns "$d" nft flush chain netdev lvs sched
  if [ "$pers" -gt 0 ]; then
    # A template re-armed only by a new connection it schedules (ip_vs_sched_persist).
    for r in "${rss[@]}"; do
      inns "$d" nft add rule netdev lvs sched ip saddr @tpl_$r goto new_$r
    done
  fi
  [ "$n" -eq 0 ] && return 0
  for r in "${rss[@]}"; do vmap+="${vmap:+, }$i : goto new_$r"; i=$((i + 1)); done
  inns "$d" nft add rule netdev lvs sched numgen inc mod "$n" vmap "{ $vmap }"
}

# director_up <director> <tcp> <tcpfin> <close> <persistence|0> <ports csv> <rs...>
director_up() {
  local d=$1 pers=$5
  inns "$d" nft delete table netdev lvs 2>/dev/null || true
  director_rules "$@" | inns "$d" nft -f -
  sched_rules "$d" "$pers" "${@:7}"
}
