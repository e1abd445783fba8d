#!/usr/bin/python3
# python_client.py — the official Python client (Debian's python3-kubernetes)
# against a running orc: lists, a create, a watch that sees ADDED and
# MODIFIED, and list_node, whose model refuses a Node missing any nodeInfo
# field. Run by tests/e2e/test_python_client.c; argv[1] is a kubeconfig,
# argv[2] the name of a Node to expect. Prints "ok" last, exits non-zero
# with the reason otherwise.
import sys

from kubernetes import client, config, watch


def main(kubeconfig, node):
    config.load_kube_config(kubeconfig)
    v1 = client.CoreV1Api()

    pods = v1.list_namespaced_pod("default")
    assert pods.items == [], "pods in default: %r" % pods.items
    before = v1.list_namespaced_config_map("default").metadata.resource_version

    cm = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="py-cm"), data={"a": "1"})
    made = v1.create_namespaced_config_map("default", cm)
    assert made.metadata.uid, "no uid on the created ConfigMap"
    v1.patch_namespaced_config_map("py-cm", "default", {"data": {"a": "2"}})

    # From the list's resourceVersion: the create, then the patch.
    seen = []
    w = watch.Watch()
    for ev in w.stream(v1.list_namespaced_config_map, "default",
                       resource_version=before, timeout_seconds=10):
        if ev["object"].metadata.name != "py-cm":
            continue
        seen.append((ev["type"], ev["object"].data["a"]))
        if len(seen) == 2:
            w.stop()
    assert seen == [("ADDED", "1"), ("MODIFIED", "2")], "watch saw %r" % seen

    # Without a resourceVersion (watch=True): the current state as ADDED.
    w = watch.Watch()
    first = None
    for ev in w.stream(v1.list_namespaced_config_map, "default", timeout_seconds=10):
        first = (ev["type"], ev["object"].metadata.name)
        w.stop()
    assert first is not None and first[0] == "ADDED", "watch=True saw %r" % (first,)

    nodes = v1.list_node()
    names = [n.metadata.name for n in nodes.items]
    assert node in names, "nodes %r lack %s" % (names, node)
    info = [n for n in nodes.items if n.metadata.name == node][0].status.node_info
    assert info.boot_id and info.machine_id and info.system_uuid, "nodeInfo %r" % info

    v1.delete_namespaced_config_map("py-cm", "default")
    print("ok")


if __name__ == "__main__":
    try:
        main(sys.argv[1], sys.argv[2])
    except Exception as e:  # the reason, on one line, for the C test to show
        print("FAIL: %s: %s" % (type(e).__name__, e))
        sys.exit(1)
