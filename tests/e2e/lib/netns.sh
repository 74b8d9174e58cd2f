#!/usr/bin/env bash
# Runs a command inside a private network namespace with no route out of
# the machine, as every browser test must (see ../../README.md, "Tests").
#
# Inside: loopback, and a veth pair 10.213.0.1 <-> 10.213.0.2 with a default
# route via .2 (Chromium gathers no ICE candidates without a default route,
# and none on 127.0.0.1). Peers connect over 10.213.0.1. Packets for any
# other address reach .2, which forwards nothing: nothing leaves.
#
# The veth pair gets no IPv6: its link-local addresses would finish
# duplicate address detection a second or two after the namespace starts,
# Chromium would see the change and fail every request then in flight with
# net::ERR_NETWORK_CHANGED (seen in a benchmark's first page load).
#
# Usage: tests/e2e/lib/netns.sh <command> [args...]
set -euo pipefail
exec unshare --net --user --map-root-user bash -c '
  set -e
  ip link set lo up
  echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6
  ip link add v0 type veth peer name v1
  ip addr add 10.213.0.1/24 dev v0
  ip addr add 10.213.0.2/24 dev v1
  ip link set v0 up
  ip link set v1 up
  ip route add default via 10.213.0.2 dev v0
  export PEERCDN_NETNS_ADDR=10.213.0.1
  exec "$@"' netns "$@"
