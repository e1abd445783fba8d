#!/bin/sh
# Installs every Debian 12 package the build, tests and benchmarks need
# (clang and libclang-rt-14-dev, which holds libFuzzer: the fuzz targets;
# iperf3: the pod-to-pod throughput benchmark, tests/bench/podnet.c).
# Idempotent: does nothing when all are present. Needs root (or sudo).
set -e
PKGS="build-essential pkg-config libuv1-dev libraft-dev libsqlite3-dev libjansson-dev
libyaml-dev libssl-dev node-llhttp curl procps iproute2 etcd-server etcd-client wrk
runc skopeo umoci iptables docker-registry busybox-static apache2-utils
clang libclang-rt-14-dev libldns-dev ldnsutils dnsperf dnsmasq-base nftables conntrack iperf3 nginx-light"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
echo "installing:$missing"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
# nginx is only the Ingress benchmark's anchor (it runs its own): a
# machine with systemd starts Debian's service on port 80, where the node's
# Ingress proxy listens. Stop it when this script installed it.
case " $missing " in
*" nginx-light "*)
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet nginx 2>/dev/null; then
        $SUDO systemctl disable --now nginx || true
    fi ;;
esac
