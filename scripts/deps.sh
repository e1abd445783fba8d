#!/bin/sh
# Installs every Debian 12 package the build, tests and benchmarks need
# (clang and libclang-rt-14-dev, which holds libFuzzer: the fuzz targets;
# iperf3: the pod-to-pod throughput benchmark, tests/bench/podnet.c;
# python3-kubernetes: the Python client test, tests/e2e/test_python_client.c;
# libwslay-dev: WebSocket framing for exec/attach, agent/serve_stream.c;
# zlib1g-dev: SPDY/3 header compression for port-forward, lib/spdy.c;
# prometheus: a real Prometheus scraping orc's /metrics, and
# victoria-metrics, whose Kubernetes discovery Debian's Prometheus lacks:
# tests/e2e/test_prometheus.c).
# Idempotent: does nothing when all are present. Needs root (or sudo).
set -e
PKGS="build-essential pkg-config libuv1-dev libraft-dev libsqlite3-dev libjansson-dev
libyaml-dev libssl-dev node-llhttp curl procps iproute2 etcd-server etcd-client wrk
runc skopeo umoci iptables docker-registry busybox-static apache2-utils
clang libclang-rt-14-dev libldns-dev ldnsutils dnsperf dnsmasq-base nftables conntrack iperf3
containernetworking-plugins nginx-light python3-kubernetes libwslay-dev zlib1g-dev prometheus
victoria-metrics"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
echo "installing:$missing"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
# The packages' own services must not start: tests and benchmarks run their
# own nginx (the Ingress benchmark's anchor), etcd and docker-registry, and
# Debian's nginx would take port 80, where the node's Ingress proxy
# listens. A policy-rc.d answering 101 tells invoke-rc.d (and systemd's
# deb-systemd-invoke) so, for this install only.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 755 /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
# ... nor start at the next boot.
case " $missing " in
*" nginx-light "*)
    if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now nginx 2>/dev/null || true; fi ;;
esac
case " $missing " in
*" prometheus "*)
    if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now prometheus 2>/dev/null || true; fi ;;
esac
case " $missing " in
*" victoria-metrics "*)
    if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now victoria-metrics 2>/dev/null || true; fi ;;
esac
