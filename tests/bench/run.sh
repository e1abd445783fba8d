#!/usr/bin/env bash
# make bench: orc beside etcd (Debian's etcd-server, the store Kubernetes
# uses), in one run, on this machine's loopback, with the same load tool (wrk):
#   - orc creating 1 KiB ConfigMaps through its API vs etcd raw 1 KiB puts
#     through its JSON gateway, at 1 and 64 connections, 1 and 3 members;
#   - time from start to ready, and idle RSS of a member;
#   - kill -9 of the leader under 8 writers (tests/bench/fault.c): acknowledged
#     writes lost and duplicated, seconds until writes succeed again;
#   - the API port (tests/bench/limits.c): creates/s and delivery latency
#     with 1,000 watchers, and a member's RSS under abuse and after it;
#   - the scheduler (tests/bench/sched.c): pods/s binding 10,000 pods on
#     1,000 simulated nodes of a 3-member store, and nodes used beside an
#     offline first-fit-decreasing packing;
#   - Services (tests/bench/services.c): ClusterIP creates/s under 16
#     concurrent clients of 3 members, and the EndpointSlice controller's
#     time to reflect N Services x M pods;
#   - the cluster DNS resolver (tests/bench/dns.c): queries/s, p50/p99 for
#     service names and forwarded names, 1,000 Services, UDP on loopback,
#     and dnsperf against it and against dnsmasq serving the same names;
#   - the node agent (tests/bench/pods.c): pod start latency on one node
#     beside a bare `runc run -d`, and the agent's memory (needs root, runc,
#     umoci, skopeo, docker-registry; skipped with a note otherwise);
#   - routes between nodes on the network test bed (tests/bench/netbed.c):
#     a node joining and leaving, ms until every node's routes follow;
#   - the Service proxy's rule syncs (tests/bench/proxy.c): 1,000 Services x
#     10 endpoints, orc's nftables table beside kube-proxy's iptables shape
#     through iptables-restore, a full sync and one endpoint change, then
#     TCP requests and a stream through a ClusterIP beside the pod IP, in a
#     network namespace of its own (root; skipped with a note otherwise);
#   - the Ingress proxy (tests/bench/ingress.c): wrk requests/s and p50/p99
#     through the node proxy to 3 upstreams, beside straight to one upstream
#     and beside Debian's nginx as the same reverse proxy (needs root, nginx);
#   - pod-to-pod TCP throughput across nodes (tests/bench/podnet.c, iperf3):
#     host-gw and VXLAN beside two namespaces joined by a bare veth;
#   - orc's JSON reader and writer beside jansson's (tests/bench/json.c);
#   - stock kubectl beside orctl (tests/bench/kubectl.c): apply -f DIR of
#     100 manifests, created, then again unchanged;
#   - server-side apply (tests/bench/ssa.c): kubectl's no-op apply of 100
#     Deployments, --server-side beside client-side, objects/s;
#   - a /metrics scrape (tests/bench/metrics.c): latency with 16 and with
#     10,000 pods stored;
#   - metrics collection's cost to the node agent (tests/bench/agentmetrics.c):
#     one `orcd agent` with 50 pods, its CPU and RSS over a window with nobody
#     scraping, scraped every 15 s and every 1 s (/metrics/resource as the
#     member's collector, /metrics and /metrics/cadvisor as Prometheus), and
#     /stats/summary and /metrics/cadvisor latency (root, runc, umoci;
#     BENCH_AGENT_SECONDS sets the window, 60; BENCH_ONLY=agentmetrics runs
#     only this part);
#   - server-side printing (tests/bench/tables.c): 10,000 pods listed as a
#     Table and as objects, through the API and through kubectl get pods -A
#     (beside -o json): time, body size and orcd's RSS peak;
#   - the HPA's reaction (tests/bench/hpa.c, BENCH_ONLY=hpa): seconds from
#     load on to the new replicas Ready in README's walkthrough, with
#     Kubernetes' default 15 s periods and with 2 s ones.
# orc is measured over HTTPS (it serves nothing else; wrk does not verify
# certificates, curl gets the member's ca.crt), etcd over its default plain
# HTTP: the table charges orc for TLS.
#   - RBAC: GETs as a user bound by 1,000 RoleBindings against GETs as a
#     cluster-admin, one member, 64 connections (BENCH_ONLY=rbac);
#   - Secrets encrypted at rest (aesgcm) against identity: 1 KiB Secret
#     creates and gets, three members, 64 connections (BENCH_ONLY=secrets
#     runs only this part);
#   - Raft over mutual TLS against Raft in plaintext (orcd's benchmark-only
#     --raft-plaintext-benchmark-only), three orc members, 64 connections,
#     and the ratio: what the authenticated Raft port costs.
# Prints a markdown table (figures, not pass/fail). BENCH_SECONDS sets each
# load's length (default 10). BENCH_ONLY=raft_tls runs only the Raft TLS part,
# BENCH_ONLY=audit only the audit log's (on vs off, tests/bench/run.sh bench_audit).
set -euo pipefail
O=${O:-build}
SECS=${BENCH_SECONDS:-10}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
tmp=$(mktemp -d /tmp/orc-bench.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT

# One benchmark program of the harness: $1 its name (BENCH_ONLY), $2 what
# it measures, $3 what it needs (root, runc or ""), $4... the command.
part() {
    local name=$1 what=$2 needs=$3 prog=$4
    shift 3
    if [ -n "$needs" ] && [ "$(id -u)" != 0 ]; then
        echo; echo "($what benchmark skipped: it needs root)"; return 0
    fi
    if [ "$needs" = runc ] && { ! command -v runc >/dev/null || ! command -v umoci >/dev/null; }; then
        echo; echo "($what benchmark skipped: it needs runc and umoci)"; return 0
    fi
    [ -x "$prog" ] || { echo "bench: missing $prog (run make bench)" >&2; exit 1; }
    echo
    if O=$O BENCH_SECONDS=$SECS "$@" >"$tmp/$name.out"; then
        grep -v '^ok - ' "$tmp/$name.out"
    else
        cat "$tmp/$name.out" >&2
        echo "bench: the $what benchmark failed" >&2; exit 1
    fi
}
BASE=127.0.77
READY="$O/tests/bench/ready"
for t in "$O/orcd" "$READY" /usr/bin/etcd /usr/bin/wrk; do
    [ -x "$t" ] || { echo "bench: missing $t (run make deps && make)" >&2; exit 1; }
done

# Each start_* leaves "ready_ms=.. rss_kib=.." in $tmp/NAME.ready and the
# server's PID in $tmp/NAME.pid; track NAME records it for cleanup.
track() { pids+=("$(cat "$tmp/$1.pid")"); }
ready_of() { cat "$tmp/$1.ready"; }

# start_orc NAME IP [JOIN_URL TOKEN]; ORC_EXTRA holds more orcd flags
ORC_EXTRA=()
start_orc() {
    local name=$1 ip=$2 join=${3:-} token=${4:-}
    local args=(server --data-dir "$tmp/$name" --listen "$ip:6443" --no-agent "${ORC_EXTRA[@]}")
    [ -n "$join" ] && args+=(--join "$join" --token "$token")
    HOME=$tmp ORC_LOG=warn "$READY" "https://$ip" 6443 /readyz 2000 "$tmp/$name.pid" -- "$O/orcd" "${args[@]}" \
        >"$tmp/$name.ready" 2>>"$tmp/$name.log"
}

# start_etcd NAME IP INITIAL_CLUSTER
start_etcd() {
    local name=$1 ip=$2 cluster=$3
    "$READY" "$ip" 2379 /health 2000 "$tmp/$name.pid" -- /usr/bin/etcd --name "$name" \
        --data-dir "$tmp/$name" --listen-client-urls "http://$ip:2379" \
        --advertise-client-urls "http://$ip:2379" --listen-peer-urls "http://$ip:2380" \
        --initial-advertise-peer-urls "http://$ip:2380" --initial-cluster "$cluster" \
        --initial-cluster-state new --log-level error >"$tmp/$name.ready" 2>>"$tmp/$name.log"
}

orc_leader_url() { # among "$@" URLs (of the three-member cluster whose first member is $LEAD_OF, default o1)
    local first=${LEAD_OF:-o1} t; t=$(cat "$tmp/$first/token")
    for u in "$@"; do
        if curl -sf --cacert "$tmp/$first/ca.crt" -H "Authorization: Bearer $t" "$u/internal/v1/status" \
            | grep -q '"role":"leader"'; then
            echo "$u"; return
        fi
    done
}

etcd_leader_url() {
    for u in "$@"; do
        # the member whose id is the leader it reports
        local s; s=$(curl -sf -X POST "$u/v3/maintenance/status" -d '{}') || continue
        local id leader
        id=$(echo "$s" | sed -n 's/.*"member_id":"\([0-9]*\)".*/\1/p')
        leader=$(echo "$s" | sed -n 's/.*"leader":"\([0-9]*\)".*/\1/p')
        [ -n "$id" ] && [ "$id" = "$leader" ] && { echo "$u"; return; }
    done
}

# wrk_run URL SCRIPT CONNS ARGS... -> "rps p50_ms p99_ms errors"
wrk_run() {
    local url=$1 script=$2 conns=$3; shift 3
    local threads=$(( conns < 2 ? 1 : 2 ))
    local out
    out=$(wrk -t"$threads" -c"$conns" -d"${SECS}s" --latency -s "$script" "$url" -- "$@" 2>&1)
    local rps p50 p99 errs
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    p50=$(echo "$out" | awk '$1=="50%" {print $2}')
    p99=$(echo "$out" | awk '$1=="99%" {print $2}')
    errs=$(echo "$out" | awk '/Non-2xx/ {print $5}')
    echo "$rps $(to_ms "$p50") $(to_ms "$p99") ${errs:-0}"
}

to_ms() { # wrk prints 850.00us / 1.23ms / 1.02s
    local v=$1
    case $v in
        *us) awk -v x="${v%us}" 'BEGIN{printf "%.2f", x/1000}' ;;
        *ms) awk -v x="${v%ms}" 'BEGIN{printf "%.2f", x}' ;;
        *s) awk -v x="${v%s}" 'BEGIN{printf "%.2f", x*1000}' ;;
        *) echo "?" ;;
    esac
}

rows=()
# bench_pair LABEL ORC_URL ETCD_URL TOKEN
bench_pair() {
    local label=$1 orc=$2 etcd=$3 token=$4 c
    for c in 1 64; do
        local run=$RANDOM
        local e o
        e=$(wrk_run "$etcd" tests/bench/etcd_put.lua "$c" "$((run % 100))")
        o=$(wrk_run "$orc" tests/bench/orc_create.lua "$c" "$run" "$token" bench)
        rows+=("$label|$c|$e|$o")
    done
}

print_rows() {
    echo "| members | conns | etcd req/s | etcd p50 ms | etcd p99 ms | orc req/s | orc p50 ms | orc p99 ms | orc/etcd throughput | orc errors |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
    for r in "${rows[@]}"; do
        IFS='|' read -r label c e o <<<"$r"
        read -r er e50 e99 _ <<<"$e"
        read -r orps o50 o99 oerr <<<"$o"
        ratio=$(awk -v a="$orps" -v b="$er" 'BEGIN{ if (b>0) printf "%.2fx", a/b; else print "?" }')
        echo "| $label | $c | $er | $e50 | $e99 | $orps | $o50 | $o99 | $ratio | $oerr |"
    done
}

make_ns() { # URL TOKEN CA_FILE
    curl -sf -o /dev/null --cacert "$3" -H "Authorization: Bearer $2" \
        -H 'Content-Type: application/json' \
        -X POST "$1/api/v1/namespaces" -d '{"metadata":{"name":"bench"}}'
}

# ---- Raft over mutual TLS vs plaintext: three orc members each, 64
# connections, the two clusters measured one after the other, twice, so a
# slow moment of a shared machine does not land on one side only ----
bench_raft_tls() {
    local b=127.0.78 tok ptok tl pl t1 p1 t2 p2
    start_orc t1 $b.11; track t1
    tok=$(cat "$tmp/t1/token")
    start_orc t2 $b.12 "https://$b.11:6443" "$tok"; track t2
    start_orc t3 $b.13 "https://$b.11:6443" "$tok"; track t3
    ORC_EXTRA=(--raft-plaintext-benchmark-only)
    start_orc p1 $b.21; track p1
    ptok=$(cat "$tmp/p1/token")
    start_orc p2 $b.22 "https://$b.21:6443" "$ptok"; track p2
    start_orc p3 $b.23 "https://$b.21:6443" "$ptok"; track p3
    ORC_EXTRA=()
    sleep 1
    tl=$(LEAD_OF=t1 orc_leader_url "https://$b.11:6443" "https://$b.12:6443" "https://$b.13:6443")
    pl=$(LEAD_OF=p1 orc_leader_url "https://$b.21:6443" "https://$b.22:6443" "https://$b.23:6443")
    make_ns "$tl" "$tok" "$tmp/t1/ca.crt"
    make_ns "$pl" "$ptok" "$tmp/p1/ca.crt"
    t1=$(wrk_run "$tl" tests/bench/orc_create.lua 64 "t$RANDOM" "$tok" bench)
    p1=$(wrk_run "$pl" tests/bench/orc_create.lua 64 "p$RANDOM" "$ptok" bench)
    p2=$(wrk_run "$pl" tests/bench/orc_create.lua 64 "p$RANDOM" "$ptok" bench)
    t2=$(wrk_run "$tl" tests/bench/orc_create.lua 64 "t$RANDOM" "$tok" bench)
    echo
    echo "| Raft transport (3 members, 64 conns, 1 KiB creates) | run 1 req/s | run 2 req/s | p50 ms | p99 ms | errors |"
    echo "|---|---|---|---|---|---|"
    local r
    for r in "mutual TLS|$t1|$t2" "plaintext (benchmark only)|$p1|$p2"; do
        IFS='|' read -r label a c <<<"$r"
        read -r ar a50 a99 aerr <<<"$a"
        read -r cr c50 c99 cerr <<<"$c"
        echo "| $label | $ar | $cr | $a50 / $c50 | $a99 / $c99 | $((aerr + cerr)) |"
    done
    read -r t1r _ <<<"$t1"; read -r t2r _ <<<"$t2"
    read -r p1r _ <<<"$p1"; read -r p2r _ <<<"$p2"
    awk -v a="$t1r" -v b="$t2r" -v c="$p1r" -v d="$p2r" 'BEGIN {
        t = (a + b) / 2; p = (c + d) / 2
        if (p > 0) printf "\nRaft over mutual TLS: %.2fx the plaintext throughput (%.1f %% cost; target <= 10 %%)\n", t / p, (1 - t / p) * 100
    }'
    for n in t1 t2 t3 p1 p2 p3; do kill "$(cat "$tmp/$n.pid")" 2>/dev/null || true; done
}

# ---- the audit log: API writes with --audit-log-path (Metadata for every
# request, to a file) beside without, one member each, 64 connections,
# measured one after the other twice (a shared machine's slow moment does
# not land on one side only) ----
bench_audit() {
    local b=127.0.79 atok ntok al nl a1 n1 a2 n2 lines
    ORC_EXTRA=(--audit-log-path "$tmp/audit.log")
    start_orc a1 $b.11; track a1
    ORC_EXTRA=()
    start_orc n1 $b.12; track n1
    atok=$(cat "$tmp/a1/token"); ntok=$(cat "$tmp/n1/token")
    al="https://$b.11:6443"; nl="https://$b.12:6443"
    make_ns "$al" "$atok" "$tmp/a1/ca.crt"
    make_ns "$nl" "$ntok" "$tmp/n1/ca.crt"
    a1=$(wrk_run "$al" tests/bench/orc_create.lua 64 "a$RANDOM" "$atok" bench)
    n1=$(wrk_run "$nl" tests/bench/orc_create.lua 64 "n$RANDOM" "$ntok" bench)
    n2=$(wrk_run "$nl" tests/bench/orc_create.lua 64 "n$RANDOM" "$ntok" bench)
    a2=$(wrk_run "$al" tests/bench/orc_create.lua 64 "a$RANDOM" "$atok" bench)
    lines=$(wc -l <"$tmp/audit.log")
    echo
    echo "| audit log (1 member, 64 conns, 1 KiB creates) | run 1 req/s | run 2 req/s | p50 ms | p99 ms | errors |"
    echo "|---|---|---|---|---|---|"
    local r
    for r in "on (Metadata, file)|$a1|$a2" "off|$n1|$n2"; do
        IFS='|' read -r label a c <<<"$r"
        read -r ar a50 a99 aerr <<<"$a"
        read -r cr c50 c99 cerr <<<"$c"
        echo "| $label | $ar | $cr | $a50 / $c50 | $a99 / $c99 | $((aerr + cerr)) |"
    done
    read -r a1r _ <<<"$a1"; read -r a2r _ <<<"$a2"
    read -r n1r _ <<<"$n1"; read -r n2r _ <<<"$n2"
    awk -v a="$a1r" -v b="$a2r" -v c="$n1r" -v d="$n2r" -v l="$lines" 'BEGIN {
        t = (a + b) / 2; p = (c + d) / 2
        if (p > 0) printf "\nAudit log on: %.2fx the throughput without (%.1f %% cost); %d events written\n", t / p, (1 - t / p) * 100, l
    }'
    grep -h "dropped" "$tmp/a1.log" || true
    for n in a1 n1; do kill "$(cat "$tmp/$n.pid")" 2>/dev/null || true; done
}

if [ "${BENCH_ONLY:-}" = audit ]; then
    echo "# audit log on vs off, ${SECS}s per load, $(nproc) cores" >&2
    bench_audit
    exit 0
fi

# ---- Secrets encrypted at rest (aesgcm) vs stored as written (identity):
# three orc members each, 1 KiB Secrets, 64 connections, creates and gets of
# one Secret, the two clusters measured alternately, twice ----
bench_secrets() {
    local b=127.0.81 ktok itok kl il
    local kc=$tmp/enc-aesgcm.yaml ic=$tmp/enc-identity.yaml
    printf '%s\n' 'apiVersion: apiserver.config.k8s.io/v1' 'kind: EncryptionConfiguration' \
        'resources:' '- resources: [secrets]' '  providers:' '  - aesgcm:' '      keys:' \
        '      - name: key1' "        secret: $(head -c 32 /dev/urandom | base64)" \
        '  - identity: {}' >"$kc"
    printf '%s\n' 'apiVersion: apiserver.config.k8s.io/v1' 'kind: EncryptionConfiguration' \
        'resources:' '- resources: [secrets]' '  providers:' '  - identity: {}' >"$ic"
    chmod 600 "$kc" "$ic"
    ORC_EXTRA=(--encryption-config "$kc")
    start_orc k1 $b.11; track k1
    ktok=$(cat "$tmp/k1/token")
    start_orc k2 $b.12 "https://$b.11:6443" "$ktok"; track k2
    start_orc k3 $b.13 "https://$b.11:6443" "$ktok"; track k3
    ORC_EXTRA=(--encryption-config "$ic")
    start_orc i1 $b.21; track i1
    itok=$(cat "$tmp/i1/token")
    start_orc i2 $b.22 "https://$b.21:6443" "$itok"; track i2
    start_orc i3 $b.23 "https://$b.21:6443" "$itok"; track i3
    ORC_EXTRA=()
    sleep 1
    kl=$(LEAD_OF=k1 orc_leader_url "https://$b.11:6443" "https://$b.12:6443" "https://$b.13:6443")
    il=$(LEAD_OF=i1 orc_leader_url "https://$b.21:6443" "https://$b.22:6443" "https://$b.23:6443")
    make_ns "$kl" "$ktok" "$tmp/k1/ca.crt"
    make_ns "$il" "$itok" "$tmp/i1/ca.crt"
    local kc1 ic1 ic2 kc2 kg1 ig1 ig2 kg2 one='{"metadata":{"name":"one"},"data":{"v":"'
    one+=$(head -c 768 /dev/zero | tr '\0' x | base64 -w0)'"}}'
    for u in "$kl|$ktok|k1" "$il|$itok|i1"; do
        IFS='|' read -r url t n <<<"$u"
        curl -sf -o /dev/null --cacert "$tmp/$n/ca.crt" -H "Authorization: Bearer $t" \
            -H 'Content-Type: application/json' -X POST "$url/api/v1/namespaces/bench/secrets" -d "$one"
    done
    kc1=$(wrk_run "$kl" tests/bench/orc_secret_create.lua 64 "k$RANDOM" "$ktok" bench)
    ic1=$(wrk_run "$il" tests/bench/orc_secret_create.lua 64 "i$RANDOM" "$itok" bench)
    ic2=$(wrk_run "$il" tests/bench/orc_secret_create.lua 64 "i$RANDOM" "$itok" bench)
    kc2=$(wrk_run "$kl" tests/bench/orc_secret_create.lua 64 "k$RANDOM" "$ktok" bench)
    kg1=$(wrk_run "$kl" tests/bench/orc_secret_get.lua 64 "$ktok" bench one)
    ig1=$(wrk_run "$il" tests/bench/orc_secret_get.lua 64 "$itok" bench one)
    ig2=$(wrk_run "$il" tests/bench/orc_secret_get.lua 64 "$itok" bench one)
    kg2=$(wrk_run "$kl" tests/bench/orc_secret_get.lua 64 "$ktok" bench one)
    echo
    echo "| Secrets at rest (3 members, 64 conns, 1 KiB) | run 1 req/s | run 2 req/s | p50 ms | p99 ms | errors |"
    echo "|---|---|---|---|---|---|"
    local r
    for r in "create, aesgcm|$kc1|$kc2" "create, identity|$ic1|$ic2" \
             "get, aesgcm|$kg1|$kg2" "get, identity|$ig1|$ig2"; do
        IFS='|' read -r label a c <<<"$r"
        read -r ar a50 a99 aerr <<<"$a"
        read -r cr c50 c99 cerr <<<"$c"
        echo "| $label | $ar | $cr | $a50 / $c50 | $a99 / $c99 | $((aerr + cerr)) |"
    done
    local w
    for w in "creates|$kc1|$kc2|$ic1|$ic2|10" "gets|$kg1|$kg2|$ig1|$ig2|"; do
        IFS='|' read -r what k1s k2s i1s i2s target <<<"$w"
        read -r a _ <<<"$k1s"; read -r c _ <<<"$k2s"
        read -r d _ <<<"$i1s"; read -r e _ <<<"$i2s"
        awk -v a="$a" -v b="$c" -v c="$d" -v d="$e" -v w="$what" -v t="$target" 'BEGIN {
            k = (a + b) / 2; i = (c + d) / 2
            if (i > 0) printf "\nSecret %s with aesgcm: %.2fx the identity throughput (%.1f %% cost%s)\n", w, k / i, (1 - k / i) * 100, t != "" ? "; target <= " t " %" : ""
        }'
    done
    for n in k1 k2 k3 i1 i2 i3; do kill "$(cat "$tmp/$n.pid")" 2>/dev/null || true; done
}

if [ "${BENCH_ONLY:-}" = secrets ]; then
    echo "# Secrets encrypted at rest vs identity, ${SECS}s per load, $(nproc) cores" >&2
    bench_secrets
    exit 0
fi

# ---- RBAC: reads as a user bound by 1,000 RoleBindings beside reads as a
# cluster-admin (a ClusterRoleBinding, not system:masters' shortcut), both
# authenticated the same way (bootstrap tokens), one member, 64
# connections, measured alternately twice ----
bench_rbac() {
    local b=127.0.82 tok url ca post rb1 ad1 ad2 rb2 i
    start_orc r1 $b.11; track r1
    tok=$(cat "$tmp/r1/token"); url="https://$b.11:6443"; ca="$tmp/r1/ca.crt"
    post() { # PATH JSON
        curl -sf -o /dev/null --cacert "$ca" -H "Authorization: Bearer $tok" \
            -H 'Content-Type: application/json' -X POST "$url$1" -d "$2"
    }
    make_ns "$url" "$tok" "$ca"
    for u in aaaaaa bbbbbb; do
        post /api/v1/namespaces/kube-system/secrets '{"metadata":{"name":"bootstrap-token-'$u'"},"type":"bootstrap.kubernetes.io/token","stringData":{"token-id":"'$u'","token-secret":"0123456789abcdef","usage-bootstrap-authentication":"true"}}'
    done
    post /apis/rbac.authorization.k8s.io/v1/clusterrolebindings '{"metadata":{"name":"bench-admin"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"cluster-admin"},"subjects":[{"kind":"User","name":"system:bootstrap:aaaaaa"}]}'
    post /apis/rbac.authorization.k8s.io/v1/namespaces/bench/roles '{"metadata":{"name":"cm-reader"},"rules":[{"apiGroups":[""],"resources":["configmaps"],"verbs":["get"]}]}'
    post /apis/rbac.authorization.k8s.io/v1/namespaces/bench/roles '{"metadata":{"name":"secret-reader"},"rules":[{"apiGroups":[""],"resources":["secrets"],"verbs":["get"]}]}'
    for i in $(seq 1 999); do
        post /apis/rbac.authorization.k8s.io/v1/namespaces/bench/rolebindings '{"metadata":{"name":"rb-'$i'"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"cm-reader"},"subjects":[{"kind":"User","name":"system:bootstrap:bbbbbb"}]}'
    done
    post /apis/rbac.authorization.k8s.io/v1/namespaces/bench/rolebindings '{"metadata":{"name":"rb-1000"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"secret-reader"},"subjects":[{"kind":"User","name":"system:bootstrap:bbbbbb"}]}'
    post /api/v1/namespaces/bench/secrets '{"metadata":{"name":"one"},"data":{"v":"eA=="}}'
    sleep 1
    rb1=$(wrk_run "$url" tests/bench/orc_secret_get.lua 64 bbbbbb.0123456789abcdef bench one)
    ad1=$(wrk_run "$url" tests/bench/orc_secret_get.lua 64 aaaaaa.0123456789abcdef bench one)
    ad2=$(wrk_run "$url" tests/bench/orc_secret_get.lua 64 aaaaaa.0123456789abcdef bench one)
    rb2=$(wrk_run "$url" tests/bench/orc_secret_get.lua 64 bbbbbb.0123456789abcdef bench one)
    echo
    echo "| RBAC (1 member, 64 conns, GET of one Secret) | run 1 req/s | run 2 req/s | p50 ms | p99 ms | errors |"
    echo "|---|---|---|---|---|---|"
    local r label x y x50 x99 xe y50 y99 ye xr yr
    for r in "a user bound by 1,000 RoleBindings|$rb1|$rb2" "cluster-admin (one ClusterRoleBinding)|$ad1|$ad2"; do
        IFS='|' read -r label x y <<<"$r"
        read -r xr x50 x99 xe <<<"$x"; read -r yr y50 y99 ye <<<"$y"
        echo "| $label | $xr | $yr | $x50 / $y50 | $x99 / $y99 | $((xe + ye)) |"
    done
    read -r a _ <<<"$rb1"; read -r c _ <<<"$rb2"; read -r d _ <<<"$ad1"; read -r e _ <<<"$ad2"
    awk -v a="$a" -v b="$c" -v c="$d" -v d="$e" 'BEGIN {
        u = (a + b) / 2; m = (c + d) / 2
        if (m > 0) printf "\n1,000 RoleBindings: %.2fx the cluster-admin throughput (%.1f %% loss; target <= 5 %%)\n", u / m, (1 - u / m) * 100
    }'
    kill "$(cat "$tmp/r1.pid")" 2>/dev/null || true
}

if [ "${BENCH_ONLY:-}" = rbac ]; then
    echo "# RBAC: 1,000 RoleBindings vs cluster-admin, ${SECS}s per load, $(nproc) cores" >&2
    bench_rbac
    exit 0
fi

if [ "${BENCH_ONLY:-}" = hpa ]; then
    echo "# HPA reaction: README's walkthrough, 15 s and 2 s periods" >&2
    part hpa "HPA reaction" runc "$O/tests/bench/hpa"
    exit 0
fi

if [ "${BENCH_ONLY:-}" = agentmetrics ]; then
    echo "# node agent: metrics collection off / 15 s / 1 s, 50 pods, ${BENCH_AGENT_SECONDS:-60} s each, $(nproc) cores" >&2
    part agentmetrics "agent metrics" runc "$O/tests/bench/agentmetrics"
    exit 0
fi

if [ "${BENCH_ONLY:-}" = raft_tls ]; then
    echo "# Raft over mutual TLS vs plaintext, ${SECS}s per load, $(nproc) cores" >&2
    bench_raft_tls
    exit 0
fi

echo "# orc vs etcd $(etcd --version | head -1 | awk '{print $3}'), ${SECS}s per load, $(nproc) cores" >&2

# ---- one member each ----
start_orc s1 $BASE.11; track s1
start_etcd e1 $BASE.31 "e1=http://$BASE.31:2380"; track e1
s_orc=$(ready_of s1)
s_etcd=$(ready_of e1)
idle_orc=$(echo "$s_orc" | sed 's/.*rss_kib=//')
idle_etcd=$(echo "$s_etcd" | sed 's/.*rss_kib=//')
tok=$(cat "$tmp/s1/token")
make_ns "https://$BASE.11:6443" "$tok" "$tmp/s1/ca.crt"
bench_pair 1 "https://$BASE.11:6443" "http://$BASE.31:2379" "$tok"
loaded_orc=$(awk '/VmRSS/ {print $2}' "/proc/$(cat "$tmp/s1.pid")/status")
loaded_etcd=$(awk '/VmRSS/ {print $2}' "/proc/$(cat "$tmp/e1.pid")/status")
kill "$(cat "$tmp/s1.pid")" "$(cat "$tmp/e1.pid")"

# ---- three members each ----
start_orc o1 $BASE.21; track o1
tok=$(cat "$tmp/o1/token")
start_orc o2 $BASE.22 "https://$BASE.21:6443" "$tok"; track o2
start_orc o3 $BASE.23 "https://$BASE.21:6443" "$tok"; track o3
ec="e3a=http://$BASE.41:2380,e3b=http://$BASE.42:2380,e3c=http://$BASE.43:2380"
# etcd members wait for each other before reporting healthy: start them together.
start_etcd e3a $BASE.41 "$ec" & start_etcd e3b $BASE.42 "$ec" & start_etcd e3c $BASE.43 "$ec"
wait
for n in e3a e3b e3c; do track $n; done
sleep 1
ol=$(orc_leader_url "https://$BASE.21:6443" "https://$BASE.22:6443" "https://$BASE.23:6443")
el=$(etcd_leader_url "http://$BASE.41:2379" "http://$BASE.42:2379" "http://$BASE.43:2379")
make_ns "$ol" "$tok" "$tmp/o1/ca.crt"
bench_pair 3 "$ol" "$el" "$tok"

print_rows
echo
echo "| | orc | etcd |"
echo "|---|---|---|"
echo "| time from start to ready (1 member, ms) | $(echo "$s_orc" | sed 's/ready_ms=\([0-9.]*\).*/\1/') | $(echo "$s_etcd" | sed 's/ready_ms=\([0-9.]*\).*/\1/') |"
echo "| idle RSS of a member (MiB) | $(awk -v k="$idle_orc" 'BEGIN{printf "%.1f", k/1024}') | $(awk -v k="$idle_etcd" 'BEGIN{printf "%.1f", k/1024}') |"
echo "| RSS after the 1-member loads (MiB) | $(awk -v k="$loaded_orc" 'BEGIN{printf "%.1f", k/1024}') | $(awk -v k="$loaded_etcd" 'BEGIN{printf "%.1f", k/1024}') |"

# part NAME WHAT NEEDS PROGRAM [ARGS...]: one benchmark program, its
# tables on stdout (the harness's "ok - " lines dropped), its progress on
# stderr. NEEDS: "" (nothing), root, or runc (root, runc and umoci): a part
# that cannot run here says so and is skipped; one that fails stops the run.

# faults: kill -9 of the leader under 8 writers, orc beside etcd; its own
# clusters (harness). FAULT_ROUNDS sets the rounds (10).
echo "# faults: kill -9 of the leader, ${FAULT_ROUNDS:-10} rounds each" >&2
part fault "fault" "" "$O/tests/bench/fault"

bench_raft_tls
bench_audit
bench_secrets
bench_rbac

echo "# API port: watch fan-out and memory under abuse, ${SECS}s per load" >&2
part limits "API port" "" "$O/tests/bench/limits"
echo "# scheduler: ${SCHED_NODES:-1000} simulated nodes, ${SCHED_PODS:-10000} pods, 3 members" >&2
part sched "scheduler" "" "$O/tests/bench/sched"
echo "# Services: allocation under concurrent creates, ${BENCH_SVCS:-100} Services x ${BENCH_PODS:-10} pods" >&2
part services "Services" "" "$O/tests/bench/services"
part json "JSON" "" "$O/tests/bench/json"
echo "# kubectl beside orctl: apply -f DIR of ${BENCH_MANIFESTS:-100} manifests" >&2
part kubectl "kubectl beside orctl" "" "$O/tests/bench/kubectl"
echo "# server-side apply: kubectl no-op applies, ${BENCH_SSA_OBJECTS:-100} Deployments" >&2
part ssa "server-side apply" "" "$O/tests/bench/ssa"
echo "# Tables: ${BENCH_TABLE_PODS:-10000} pods listed as a Table and as objects" >&2
part tables "Tables" "" "$O/tests/bench/tables"
echo "# /metrics scrapes: ${BENCH_METRICS_PODS:-10000} pods stored" >&2
part metrics "metrics scrape" "" "$O/tests/bench/metrics"
echo "# node agent: 50 pods on one node, $(nproc) cores" >&2
part pods "node agent" runc "$O/tests/bench/pods"
echo "# node agent: metrics collection off / 15 s / 1 s, 50 pods, ${BENCH_AGENT_SECONDS:-60} s each" >&2
part agentmetrics "agent metrics" runc "$O/tests/bench/agentmetrics"
echo "# network test bed: ${NETBED_NODES:-4} nodes, host-gw routes" >&2
part netbed "network test bed" root "$O/tests/bench/netbed"
echo "# pod-to-pod TCP throughput: iperf3 ${PODNET_SECONDS:-$SECS} s per backend" >&2
if command -v iperf3 >/dev/null; then
    part podnet "pod-to-pod throughput" root "$O/tests/bench/podnet"
else
    echo; echo "(pod-to-pod throughput benchmark skipped: it needs iperf3)"
fi
echo "# Ingress: the node proxy, one upstream, nginx; wrk ${SECS} s each" >&2
if command -v nginx >/dev/null; then
    part ingress "Ingress" root "$O/tests/bench/ingress"
else
    echo; echo "(Ingress benchmark skipped: it needs nginx-light)"
fi
echo "# HPA reaction: README's walkthrough, 15 s and 2 s periods" >&2
part hpa "HPA reaction" runc "$O/tests/bench/hpa"
echo "# Deployment: ${BENCH_REPLICAS:-20} replicas beside as many bare pods, one node" >&2
part deploy "Deployment" runc "$O/tests/bench/deploy"

# ---- cluster DNS: the resolver alone, 1,000 Services, UDP on loopback (tests/bench/dns.c) ----
part dns "cluster DNS" "" "$O/tests/bench/dns" "${BENCH_DNS_SECONDS:-5}" 32

# ---- Service proxy: rule syncs, nft beside iptables-restore, and TCP through a ClusterIP (tests/bench/proxy.c) ----
echo "# Service proxy: ${BENCH_PROXY_SERVICES:-1000} Services x 10 endpoints, nft and iptables-restore" >&2
part proxy "Service proxy" root "$O/tests/bench/proxy" "${BENCH_PROXY_SERVICES:-1000}" 10
