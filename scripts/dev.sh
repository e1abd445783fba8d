#!/bin/sh
# make dev: runs a local single-node orc cluster in the foreground (Ctrl-C
# stops it). Its state lives in $ORC_DATA_DIR (default: /var/lib/orc as root,
# else ~/.local/share/orc); the client config goes to ~/.orc/config.
set -e
cd "$(dirname "$0")/.."
O=${O:-build}
cat >&2 <<MSG
Starting a local orc cluster (API https://127.0.0.1:6443).
In another terminal:
  $O/orctl get namespaces
  $O/orctl apply -f manifests/examples/nginx-deployment.yaml
  $O/orctl get deploy -o wide
  $O/orctl get nodes -o wide      # this machine runs pods (as root): see manifests/examples/pod.yaml
  kubectl --kubeconfig ~/.orc/config get all -A    # stock kubectl works too
MSG
exec "$O/orcd" server "$@"
