# Lab topology: one bridge namespace and one namespace per host, all on 10.77.0.0/24.
# Sourced by record.sh. Every address used here lives inside namespaces this file creates.
# shellcheck shell=bash

LAB_PREFIX="${LAB_PREFIX:-lvslab$$}"
SUBNET_PREFIX=10.77.0
VIP=10.77.0.100
# Fixed MACs so every expected.json names the same hosts across re-recordings.
declare -A HOST_IP=( [client]=10.77.0.10 [director1]=10.77.0.2 [director2]=10.77.0.3 [rs1]=10.77.0.11 [rs2]=10.77.0.12 )
declare -A HOST_MAC=( [client]=02:77:00:00:00:0a [director1]=02:77:00:00:00:02 [director2]=02:77:00:00:00:03
                      [rs1]=02:77:00:00:00:0b [rs2]=02:77:00:00:00:0c )
HOSTS=(client director1 director2 rs1 rs2)

ns() { echo "${LAB_PREFIX}-$1"; }
inns() { local h=$1; shift; ip netns exec "$(ns "$h")" "$@"; }

topo_up() {
  local br; br=$(ns bridge)
  ip netns add "$br"
  # IPv6 off everywhere before any link exists: no MLD or router solicitations in the captures.
  ip netns exec "$br" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip -n "$br" link add br0 type bridge
  # No STP and no forwarding delay: ports must forward at once, and no BPDUs clutter the captures.
  ip -n "$br" link set br0 type bridge stp_state 0 forward_delay 0
  ip -n "$br" link set br0 up
  ip -n "$br" link set lo up
  local h idx=0
  for h in "${HOSTS[@]}"; do
    idx=$((idx + 1))
    ip netns add "$(ns "$h")"
    inns "$h" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip link add eth0 netns "$(ns "$h")" type veth peer name "p$idx" netns "$br"
    ip -n "$br" link set "p$idx" master br0 up
    # Static FDB entries: a frame to a MAC the bridge has not learned yet (a real server that has
    # not spoken) would be flooded to every port, and the client would capture the director's DR copies.
    bridge -n "$br" fdb add "${HOST_MAC[$h]}" dev "p$idx" master static
    inns "$h" ip link set lo up
    inns "$h" ip link set eth0 address "${HOST_MAC[$h]}"
    inns "$h" ip addr add "${HOST_IP[$h]}/24" dev eth0
    # No checksum/segmentation offload: captures then hold frames as a wire would (valid TCP
    # checksums, no super-segments), not the partial checksums a sending host's capture shows.
    inns "$h" ethtool -K eth0 tx off tso off gso off gro off >/dev/null 2>&1
    inns "$h" ip link set eth0 up
  done
  # Real servers: VIP on lo, never answer or announce it in ARP (the classic DR setup).
  for h in rs1 rs2; do
    inns "$h" ip addr add "$VIP/32" dev lo
    inns "$h" sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.eth0.arp_ignore=1 \
      net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.eth0.arp_announce=2
  done
  # Lost sockets of killed servers must vanish quickly so a later segment meets "no socket".
  for h in rs1 rs2; do inns "$h" sysctl -qw net.ipv4.tcp_fin_timeout=3; done
  # Directors forward nothing through their IP stack (DR happens in nftables' netdev ingress).
  for h in director1 director2; do inns "$h" sysctl -qw net.ipv4.ip_forward=0; done
}

# vip_add <director>: the director owns the VIP (as keepalived's MASTER would).
vip_add() { inns "$1" ip addr add "$VIP/32" dev eth0; }
vip_del() { inns "$1" ip addr del "$VIP/32" dev eth0 2>/dev/null || true; }
# Gratuitous ARP as keepalived sends it after taking the VIP.
# (Thomas Habets' arping, as Debian ships it: -U unsolicited, -S source address, -i interface;
# it exits 1 because nobody answers a gratuitous ARP.)
garp() { inns "$1" arping -q -U -c 1 -i eth0 -S "$VIP" "$VIP" >/dev/null 2>&1 || true; }

topo_down() {
  local h
  for h in "${HOSTS[@]}" bridge; do ip netns del "$(ns "$h")" 2>/dev/null || true; done
}
