#!/bin/sh
# make dev: runs a local single-node orc cluster in the foreground (Ctrl-C
# stops it). Its state lives in $ORC_DATA_DIR (default: /var/lib/orc as root,
# else ~/.local/share/orc); the client config goes to ~/.orc/config.
# As root, unless --registries is given or ORC_DEV_IMAGES=0, it first runs
# scripts/dev-images.sh (a local registry of stand-in images for the
# Kubernetes docs' examples) and passes its registries.yaml to orcd.
set -e
cd "$(dirname "$0")/.."
O=${O:-build}
REGS=""
case " $* " in
*" --registries"*) ;;
*)
    if [ "${ORC_DEV_IMAGES:-1}" != 0 ] && [ "$(id -u)" -eq 0 ]; then
        REGS=$(./scripts/dev-images.sh | tail -n 1)
    fi
    ;;
esac
cat >&2 <<MSG
Starting a local orc cluster (API https://127.0.0.1:6443).
In another terminal (README.md, "A 5-minute tour"):
  export PATH=\$PWD/$O:\$PATH
  orctl get nodes -o wide
  orctl apply -f manifests/examples/nginx-deployment.yaml
  orctl get pods -o wide
  orctl rollout status deploy/nginx-deployment
  kubectl --kubeconfig ~/.orc/config get all -A    # stock kubectl works too
MSG
[ -z "$REGS" ] || echo "Images: the Kubernetes docs' examples pull stand-ins through the mirror in $REGS" >&2
exec "$O/orcd" server ${REGS:+--registries "$REGS"} "$@"
