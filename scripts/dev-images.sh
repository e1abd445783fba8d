#!/bin/sh
# dev-images.sh — stand-in images for the Kubernetes docs' examples, for
# machines without internet (this repository's CI, air-gapped labs). Used by
# `make dev` (scripts/dev.sh); idempotent, run it as root.
#
# It starts Debian's docker-registry on $ORC_DEV_REGISTRY (default
# 127.0.0.1:5000), or reuses the registry already answering there; builds
# tiny images from busybox-static with umoci under the names the docs'
# manifests use; pushes them with skopeo; and writes a k3s registries.yaml
# that mirrors docker.io, registry.k8s.io and quay.io to that registry
# (the path is printed on the last line). `orcd server --registries FILE`
# then pulls `nginx:1.14.2` from it; an image the mirror lacks is still
# pulled from its real registry when the machine has internet access.
#
# The images are stand-ins, not the real software:
#   nginx:1.14.2, 1.16.1, 1.25,       busybox httpd serving
#   registry.k8s.io/nginx-slim:0.21     /usr/share/nginx/html on port 80
#   quay.io/fluentd_elasticsearch/fluentd:v2.5.2
#                                     a loop following the logs in /var/log
#   perl:5.34.0                       a `perl` that answers only the docs'
#                                     `perl -Mbignum=bpi -wle "print bpi(2000)"`
#                                     (pi precomputed, see below)
#   busybox:1.28, 1.37                busybox itself
#   nginx (latest)                    as nginx:1.25
#   registry.k8s.io/hpa-example       the HorizontalPodAutoscaler walkthrough's
#                                     php-apache: port 80, each request burns
#                                     some CPU and answers "OK!" (busybox nc)
#   radial/busyboxplus:curl           busybox with a `curl` for plain http://
#                                     URLs (nslookup for the name, nc for the
#                                     request): the Services walkthrough's
#
# Environment: ORC_DEV_REGISTRY (host:port), ORC_DEV_IMAGES_DIR (where the
# registry's storage, the built layout and registries.yaml live; default
# /var/lib/orc-dev-images as root, else ~/.local/share/orc-dev-images).
set -eu

REG=${ORC_DEV_REGISTRY:-127.0.0.1:5000}
if [ "$(id -u)" -eq 0 ]; then DEFAULT_DIR=/var/lib/orc-dev-images; else DEFAULT_DIR=$HOME/.local/share/orc-dev-images; fi
DIR=${ORC_DEV_IMAGES_DIR:-$DEFAULT_DIR}
# Bump when an image changes: the built layout is reused while it matches.
STAMP=7
BUSYBOX=/bin/busybox

say() { echo "dev-images: $*" >&2; }
die() { say "$*"; exit 1; }

for tool in docker-registry umoci skopeo curl; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (make deps installs it)"
done
[ -x "$BUSYBOX" ] || die "$BUSYBOX is missing (apt-get install busybox-static)"
mkdir -p "$DIR"

# ---- the registry ----

registry_up() { curl -fsS -o /dev/null --max-time 2 "http://$REG/v2/" 2>/dev/null; }

start_registry() {
    case "$REG" in 127.*|localhost:*) ;; *) die "no registry answers at $REG (only a local one is started)" ;; esac
    mkdir -p "$DIR/registry"
    cat >"$DIR/registry/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $DIR/registry/data
  delete:
    enabled: true
http:
  addr: $REG
EOF
    # setsid: the registry outlives this script and `make dev`, and is
    # reused by the next run; stop it with kill "$(cat $DIR/registry/pid)".
    setsid docker-registry serve "$DIR/registry/config.yml" >"$DIR/registry/log" 2>&1 </dev/null &
    echo $! >"$DIR/registry/pid"
    i=0
    until registry_up; do
        i=$((i + 1))
        if [ $i -gt 100 ] || ! kill -0 "$(cat "$DIR/registry/pid")" 2>/dev/null; then
            tail -n 20 "$DIR/registry/log" >&2 || true
            die "docker-registry did not come up on $REG"
        fi
        sleep 0.1
    done
    say "started docker-registry on $REG (pid $(cat "$DIR/registry/pid"), storage $DIR/registry/data)"
}

if registry_up; then say "reusing the registry at $REG"; else start_registry; fi

# ---- the images' root filesystems ----

UMOCI_FLAGS=""
[ "$(id -u)" -eq 0 ] || UMOCI_FLAGS="--rootless"

base_rootfs() { # $1: dir
    mkdir -p "$1/bin" "$1/etc" "$1/tmp" "$1/root" "$1/usr/local/bin" "$1/var/log"
    chmod 1777 "$1/tmp"
    cp "$BUSYBOX" "$1/bin/busybox"
    for a in $("$BUSYBOX" --list); do
        [ -e "$1/bin/$a" ] || ln -s busybox "$1/bin/$a"
    done
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n' >"$1/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$1/etc/group"
    # Debian's busybox-static has no printenv applet; the docs use it
    printf '%s\n' '#!/bin/sh' 'if [ $# -eq 0 ]; then exec env; fi' \
        'for v in "$@"; do eval "[ -n \"\${$v+x}\" ] && printf \"%s\\n\" \"\${$v}\""; done' >"$1/bin/printenv"
    chmod 755 "$1/bin/printenv"
}

curl_rootfs() { # $1: dir
    base_rootfs "$1"
    mkdir -p "$1/usr/bin"
    cat >"$1/usr/bin/curl" <<'EOF'
#!/bin/sh
# A stand-in for curl (orc's scripts/dev-images.sh): GET of a plain http://
# URL, printing the body. The name is looked up with nslookup (the static
# busybox cannot resolve for nc), the request sent with nc. No TLS.
url=""
while [ $# -gt 0 ]; do
    case "$1" in
    --cacert|-o|-H|-m|--max-time|-u|-X|-d) shift ;;
    -*) ;;
    *) url=$1 ;;
    esac
    shift
done
case "$url" in
https://*) echo "curl stand-in: no TLS here (https needs the real curl image)" >&2; exit 1 ;;
http://*) rest=${url#http://} ;;
"") echo "curl stand-in: no URL" >&2; exit 2 ;;
*) rest=$url ;;
esac
hostport=${rest%%/*}
path=${rest#"$hostport"}
[ -n "$path" ] || path=/
host=${hostport%%:*}
port=80
[ "$hostport" != "$host" ] && port=${hostport#*:}
case "$host" in
*[!0-9.]*) ip=$(nslookup "$host" 2>/dev/null | sed -n 's/^Address: *//p; s/^Address 1: *//p' | tail -n 1) ;;
*) ip=$host ;;
esac
[ -n "$ip" ] || { echo "curl: (6) Could not resolve host: $host" >&2; exit 6; }
printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$path" "$host" | nc -w 5 "$ip" "$port" | sed '1,/^\r*$/d'
EOF
    chmod 755 "$1/usr/bin/curl"
}

nginx_rootfs() { # $1: dir, $2: the version it stands in for
    base_rootfs "$1"
    mkdir -p "$1/usr/sbin" "$1/usr/share/nginx/html"
    cat >"$1/usr/sbin/nginx" <<EOF
#!/bin/sh
# A stand-in for nginx $2 (orc's scripts/dev-images.sh): busybox httpd
# serving /usr/share/nginx/html on port 80, whatever the arguments.
# As nginx does, it stops at once on SIGTERM (httpd as pid 1 would not).
case "\${1:-}" in -v|-V) echo "nginx version: nginx/$2 (stand-in: busybox httpd)" >&2; exit 0 ;; esac
httpd -f -v -p 80 -h /usr/share/nginx/html &
trap 'kill \$!; exit 0' TERM INT QUIT
wait \$!
EOF
    chmod 755 "$1/usr/sbin/nginx"
    cat >"$1/usr/share/nginx/html/index.html" <<EOF
<!DOCTYPE html>
<html><head><title>Welcome to nginx!</title></head>
<body><h1>Welcome to nginx!</h1>
<p>A stand-in for nginx $2: busybox httpd in an image built by orc's scripts/dev-images.sh.</p>
</body></html>
EOF
}

fluentd_rootfs() { # $1: dir
    base_rootfs "$1"
    cat >"$1/usr/local/bin/fluentd" <<'EOF'
#!/bin/sh
# A stand-in for fluentd (orc's scripts/dev-images.sh): follows the logs in
# /var/log (the node's, through the DaemonSet's hostPath volume) and ships
# them nowhere; looks again every 10 s for files that appear.
trap 'exit 0' TERM INT
echo "fluentd stand-in: following /var/log"
while :; do
    set -- /var/log/*.log
    if [ -e "$1" ]; then tail -n 0 -F "$@" >/dev/null 2>&1 & wait $!; fi
    sleep 10 & wait $!
done
EOF
    chmod 755 "$1/usr/local/bin/fluentd"
}

hpa_example_rootfs() { # $1: dir
    base_rootfs "$1"
    cat >"$1/usr/local/bin/hpa-example-request" <<'EOF'
#!/bin/sh
# One request to the hpa-example stand-in (orc's scripts/dev-images.sh):
# the request read, some CPU burnt as the real image's index.php burns it
# (a million square roots there, a loop of shell arithmetic here), then
# "OK!" as it answers.
cr=$(printf '\r')
read -r line || exit 0
while read -r h; do h=${h%"$cr"}; [ -z "$h" ] && break; done
i=0
while [ $i -lt 20000 ]; do i=$((i + 1)); done
printf 'HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: 3\r\nConnection: close\r\n\r\nOK!'
EOF
    cat >"$1/usr/local/bin/hpa-example" <<'EOF'
#!/bin/sh
# A stand-in for registry.k8s.io/hpa-example (php-apache): serves port 80,
# one hpa-example-request per connection; stops at once on SIGTERM.
trap 'exit 0' TERM INT
echo "hpa-example stand-in: serving port 80"
nc -ll -p 80 -e /usr/local/bin/hpa-example-request & wait $!
EOF
    chmod 755 "$1/usr/local/bin/hpa-example" "$1/usr/local/bin/hpa-example-request"
}

# pi to 2010 significant digits, precomputed once with Machin's formula
# (pi/4 = 4 arctan 1/5 - arctan 1/239, integer arithmetic) and checked
# against `bc -l` (4*a(1)); the stand-in prints the first N, rounded.
PI_DIGITS='
31415926535897932384626433832795028841971693993751058209749445923078164062862089
98628034825342117067982148086513282306647093844609550582231725359408128481117450
28410270193852110555964462294895493038196442881097566593344612847564823378678316
52712019091456485669234603486104543266482133936072602491412737245870066063155881
74881520920962829254091715364367892590360011330530548820466521384146951941511609
43305727036575959195309218611738193261179310511854807446237996274956735188575272
48912279381830119491298336733624406566430860213949463952247371907021798609437027
70539217176293176752384674818467669405132000568127145263560827785771342757789609
17363717872146844090122495343014654958537105079227968925892354201995611212902196
08640344181598136297747713099605187072113499999983729780499510597317328160963185
95024459455346908302642522308253344685035261931188171010003137838752886587533208
38142061717766914730359825349042875546873115956286388235378759375195778185778053
21712268066130019278766111959092164201989380952572010654858632788659361533818279
68230301952035301852968995773622599413891249721775283479131515574857242454150695
95082953311686172785588907509838175463746493931925506040092770167113900984882401
28583616035637076601047101819429555961989467678374494482553797747268471040475346
46208046684259069491293313677028989152104752162056966024058038150193511253382430
03558764024749647326391419927260426992279678235478163600934172164121992458631503
02861829745557067498385054945885869269956909272107975093029553211653449872027559
60236480665499119881834797753566369807426542527862551818417574672890977772793800
08164706001614524919217321721477235014144197356854816136115735255213347574184946
84385233239073941433345477624168625189835694855620992192221842725502542568876717
90494601653466804988627232791786085784383827967976681454100953883786360950680064
22512520511739298489608412848862694560424196528502221066118630674427862203919494
50471237137869609563643719172874677646575739624138908658326459958133904780275900
9946576407
'

perl_rootfs() { # $1: dir
    base_rootfs "$1"
    {
        cat <<'EOF'
#!/bin/sh
# A stand-in for perl 5.34.0 (orc's scripts/dev-images.sh), not perl: it
# answers only the Kubernetes docs' Job, perl -Mbignum=bpi -wle "print bpi(N)",
# printing pi to N significant digits (N <= 2000) from digits precomputed
# with Machin's formula, rounded as Math::BigFloat rounds them.
n=""
for a in "$@"; do
    case "$a" in *'bpi('*')'*) n=$(echo "$a" | sed -n 's/.*bpi(\([0-9][0-9]*\)).*/\1/p') ;; esac
done
case "${1:-}" in -v|--version) echo "This is a stand-in for perl 5.34.0 (no perl inside)."; exit 0 ;; esac
if [ -z "$n" ] || [ "$n" -lt 1 ] || [ "$n" -gt 2000 ]; then
    echo "perl stand-in: only answers perl -Mbignum=bpi -wle 'print bpi(N)', N <= 2000" >&2
    exit 2
fi
tr -d ' \n' <<'DIGITS' | awk -v n="$n" '{
    d = substr($0, 1, n); up = substr($0, n + 1, 1) >= 5
    for (i = n; up && i > 0; i--) {
        c = substr(d, i, 1) + 1
        if (c < 10) up = 0; else c = 0
        d = substr(d, 1, i - 1) c substr(d, i + 1)
    }
    print (n == 1) ? d : substr(d, 1, 1) "." substr(d, 2)
}'
EOF
        echo "$PI_DIGITS"
        echo DIGITS
    } >"$1/usr/local/bin/perl"
    chmod 755 "$1/usr/local/bin/perl"
}

# ---- the OCI layout: one tag per image ----

LAYOUT=$DIR/oci
# tag in the layout | repository path at the mirror | how its rootfs is made | config
IMAGES='nginx-1.14.2|library/nginx:1.14.2|nginx_rootfs 1.14.2|nginx
nginx-1.16.1|library/nginx:1.16.1|nginx_rootfs 1.16.1|nginx
nginx-1.25|library/nginx:1.25|nginx_rootfs 1.25|nginx
nginx-latest|library/nginx:latest|nginx_rootfs 1.25|nginx
nginx-slim-0.21|nginx-slim:0.21|nginx_rootfs 0.21|nginx
fluentd-v2.5.2|fluentd_elasticsearch/fluentd:v2.5.2|fluentd_rootfs|fluentd
perl-5.34.0|library/perl:5.34.0|perl_rootfs|perl
busybox-1.28|library/busybox:1.28|base_rootfs|sh
busybox-1.37|library/busybox:1.37|base_rootfs|sh
busyboxplus-curl|radial/busyboxplus:curl|curl_rootfs|sh
hpa-example|hpa-example:latest|hpa_example_rootfs|hpa'

configure() { # $1: image (layout:tag), $2: the config column
    set -- "$1" "$2" --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        --config.workingdir /
    image=$1 kind=$2
    shift 2
    case "$kind" in
    nginx) set -- "$@" --config.cmd nginx --config.cmd -g --config.cmd "daemon off;" --config.exposedports 80/tcp ;;
    fluentd) set -- "$@" --config.cmd fluentd ;;
    perl) set -- "$@" --config.cmd perl --config.cmd -v ;;
    hpa) set -- "$@" --config.cmd hpa-example --config.exposedports 80/tcp ;;
    sh) set -- "$@" --config.cmd sh ;;
    esac
    # shellcheck disable=SC2086
    umoci config $UMOCI_FLAGS --image "$image" "$@"
}

build_layout() {
    work=$DIR/build.$$
    rm -rf "$work" "$LAYOUT.new"
    mkdir -p "$work"
    umoci init --layout "$LAYOUT.new"
    echo "$IMAGES" | while IFS='|' read -r tag _path make cfg; do
        root=$work/$tag
        mkdir -p "$root"
        fn=${make%% *}
        # shellcheck disable=SC2086
        $fn "$root" ${make#"$fn"}
        umoci new --image "$LAYOUT.new:$tag"
        # shellcheck disable=SC2086
        umoci insert $UMOCI_FLAGS --image "$LAYOUT.new:$tag" "$root" /
        configure "$LAYOUT.new:$tag" "$cfg"
    done
    umoci gc --layout "$LAYOUT.new"
    echo "$STAMP" >"$LAYOUT.new/orc-dev-images-stamp"
    rm -rf "$LAYOUT" "$work"
    mv "$LAYOUT.new" "$LAYOUT"
    say "built the stand-in images in $LAYOUT"
}

if [ "$(cat "$LAYOUT/orc-dev-images-stamp" 2>/dev/null)" != "$STAMP" ]; then build_layout; fi

# All at once (each copy mostly waits on the registry); a failed copy leaves
# its tag in $DIR/push-failed.$$.
rm -f "$DIR/push-failed.$$"
echo "$IMAGES" | {
    while IFS='|' read -r tag path _make _cfg; do
        skopeo --insecure-policy copy --quiet --dest-tls-verify=false \
            "oci:$LAYOUT:$tag" "docker://$REG/$path" >/dev/null || echo "$tag" >>"$DIR/push-failed.$$" &
    done
    wait
}
if [ -e "$DIR/push-failed.$$" ]; then
    failed=$(cat "$DIR/push-failed.$$")
    rm -f "$DIR/push-failed.$$"
    die "pushing to $REG failed for: $failed"
fi
say "pushed nginx:1.14.2, nginx:1.16.1, nginx:1.25, registry.k8s.io/nginx-slim:0.21, quay.io/fluentd_elasticsearch/fluentd:v2.5.2, perl:5.34.0, busybox:1.28 and 1.37, nginx (latest), radial/busyboxplus:curl and registry.k8s.io/hpa-example to $REG"

cat >"$DIR/registries.yaml.new" <<EOF
# Written by orc's scripts/dev-images.sh: pulls of these registries try the
# local registry of stand-in images first, then the registry itself.
mirrors:
  docker.io:
    endpoint: ["http://$REG"]
  registry.k8s.io:
    endpoint: ["http://$REG"]
  quay.io:
    endpoint: ["http://$REG"]
EOF
mv "$DIR/registries.yaml.new" "$DIR/registries.yaml"
echo "$DIR/registries.yaml"
