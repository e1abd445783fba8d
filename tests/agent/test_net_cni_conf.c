/* test_net_cni_conf.c — the CNI mode's pure parts and the plugin protocol,
 * without a network: which file of a directory is used, a .conf as a list,
 * the pod CIDR filled into host-local, each plugin's request (name,
 * version, prevResult, runtimeConfig only for declared capabilities),
 * results of every version, and plugin runs through small shell plugins
 * (the environment and stdin they get, a JSON error, a hang cut short). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/net.h"
#include "agent/net_cni.h"
#include "agent/net_int.h"
#include "lib/file.h"
#include "lib/json.h"
#include "lib/orc.h"
#include "tests/harness/test.h"

static void put(const char *dir, const char *name, const char *text, mode_t mode)
{
    char path[1024];

    snprintf(path, sizeof path, "%s/%s", dir, name);
    CHECKF(orc_file_write(path, text, strlen(text), mode) == 0, "write %s", path);
}

static json_t *parse(const char *name, const char *text, const char *cidr)
{
    char msg[NET_ERRLEN] = "";
    json_t *l = NULL;
    int rv = net_cni_conf_parse(name, text, cidr, &l, msg);

    CHECKF(rv == 0, "%s: %s", name, msg);
    return l;
}

TEST(conf_first_file_in_lexical_order)
{
    const char *d = test_tmpdir();
    char path[1024], msg[NET_ERRLEN];

    CHECK_INT(net_cni_conf_find(d, path, sizeof path, msg), ==, ORC_ENOENT);
    CHECKF(strstr(msg, "no CNI network configuration") != NULL, "%s", msg);
    put(d, "README", "not a config", 0644);
    put(d, "20-b.conf", "{}", 0644);
    put(d, "10-a.conflist", "{}", 0644);
    put(d, ".00-hidden.conf", "{}", 0644);
    put(d, "30-c.json", "{}", 0644);
    CHECK_INT(net_cni_conf_find(d, path, sizeof path, msg), ==, 0);
    CHECKF(strstr(path, "/10-a.conflist") != NULL, "%s", path);
    CHECK_INT(net_cni_conf_find("/nonexistent/cni", path, sizeof path, msg), ==, ORC_ENOENT);
}

TEST(conf_single_plugin_is_a_list_of_one)
{
    json_t *l = parse("87-podman.conf",
                      "{\"cniVersion\":\"0.4.0\",\"name\":\"one\",\"type\":\"bridge\",\"bridge\":\"cni9\"}",
                      NULL);

    CHECK_STR(orc_json_str(l, "name"), "one");
    CHECK_STR(orc_json_str(l, "cniVersion"), "0.4.0");
    CHECK_INT(json_array_size(json_object_get(l, "plugins")), ==, 1);
    CHECK_STR(orc_json_str(json_array_get(json_object_get(l, "plugins"), 0), "bridge"), "cni9");
    json_decref(l);
}

TEST(conf_host_local_gets_the_pod_cidr_only_when_it_has_no_subnet)
{
    json_t *l = parse("10.conflist",
                      "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"plugins\":["
                      "{\"type\":\"bridge\",\"ipam\":{\"type\":\"host-local\"}},"
                      "{\"type\":\"bridge\",\"ipam\":{\"type\":\"host-local\",\"subnet\":\"10.9.0.0/16\"}},"
                      "{\"type\":\"bridge\",\"ipam\":{\"type\":\"host-local\",\"ranges\":[[{\"subnet\":\"10.8.0.0/16\"}]]}},"
                      "{\"type\":\"bridge\",\"ipam\":{\"type\":\"static\"}},"
                      "{\"type\":\"portmap\",\"capabilities\":{\"portMappings\":true}}]}",
                      "10.42.3.0/24");
    json_t *p = json_object_get(l, "plugins");
    char *s;

    s = orc_json_dumps(json_object_get(json_array_get(p, 0), "ipam"));
    CHECK_STR(s, "{\"type\":\"host-local\",\"ranges\":[[{\"subnet\":\"10.42.3.0/24\"}]]}");
    free(s);
    CHECK(json_object_get(orc_json_get(json_array_get(p, 1), "ipam"), "ranges") == NULL);
    CHECK_STR(orc_json_str(json_array_get(p, 1), "ipam.subnet"), "10.9.0.0/16");
    s = orc_json_dumps(orc_json_get(json_array_get(p, 2), "ipam.ranges"));
    CHECK_STR(s, "[[{\"subnet\":\"10.8.0.0/16\"}]]");
    free(s);
    CHECK(orc_json_get(json_array_get(p, 3), "ipam.ranges") == NULL);
    json_decref(l);
}

TEST(conf_mtu_filled_into_bridge_and_ptp_without_one)
{
    json_t *l = parse("10.conflist",
                      "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"plugins\":["
                      "{\"type\":\"bridge\"},{\"type\":\"ptp\",\"mtu\":1400},{\"type\":\"portmap\"}]}",
                      NULL);
    json_t *p = json_object_get(l, "plugins");
    int64_t v = 0;

    net_cni_conf_fill_mtu(l, 0);
    CHECK(json_object_get(json_array_get(p, 0), "mtu") == NULL);
    net_cni_conf_fill_mtu(l, 1450);
    CHECK(orc_json_int(json_array_get(p, 0), "mtu", &v) == 0 && v == 1450);
    CHECK(orc_json_int(json_array_get(p, 1), "mtu", &v) == 0 && v == 1400);
    CHECK(json_object_get(json_array_get(p, 2), "mtu") == NULL);
    json_decref(l);
}

TEST(conf_bad_files_are_refused_with_the_reason)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"{\"cniVersion\":", "line"},
        {"[1]", "not a JSON object"},
        {"{\"cniVersion\":\"1.0.0\",\"plugins\":[{\"type\":\"bridge\"}]}", "no network name"},
        {"{\"name\":\"n\",\"plugins\":[{\"type\":\"bridge\"}]}", "no cniVersion"},
        {"{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"plugins\":[]}", "no plugins"},
        {"{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"plugins\":[{\"bridge\":\"x\"}]}", "no valid type"},
        {"{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"plugins\":[{\"type\":\"../../bin/sh\"}]}",
         "no valid type"},
    };
    char msg[NET_ERRLEN];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *l = NULL;
        msg[0] = '\0';
        CHECKF(net_cni_conf_parse("10-x.conflist", cases[i].text, NULL, &l, msg) == ORC_EINVAL,
               "case %zu accepted", i);
        CHECKF(strstr(msg, cases[i].want) && strstr(msg, "10-x.conflist"), "case %zu: %s", i, msg);
        CHECK(l == NULL);
    }
}

TEST(request_chains_prev_result_and_declared_capabilities)
{
    json_t *l = parse("x.conflist",
                      "{\"cniVersion\":\"1.0.0\",\"name\":\"net\",\"plugins\":["
                      "{\"type\":\"bridge\",\"runtimeConfig\":{\"stale\":1}},"
                      "{\"type\":\"portmap\",\"capabilities\":{\"portMappings\":true,\"bandwidth\":true}}]}",
                      NULL);
    struct net_port ports[] = {{8080, 30080, "TCP", NULL}, {53, 0, "UDP", NULL},
                               {53, 5353, "UDP", "10.0.0.1"}};
    json_t *rt = net_cni_runtime(ports, 3), *prev = json_pack("{s:s}", "cniVersion", "1.0.0");
    json_t *r0 = net_cni_plugin_request(l, 0, NULL, rt), *r1 = net_cni_plugin_request(l, 1, prev, rt);
    char *s = orc_json_dumps(rt);

    CHECK_STR(s, "{\"portMappings\":[{\"hostPort\":30080,\"containerPort\":8080,\"protocol\":\"tcp\"},"
                 "{\"hostPort\":5353,\"containerPort\":53,\"protocol\":\"udp\",\"hostIP\":\"10.0.0.1\"}]}");
    free(s);
    CHECK_STR(orc_json_str(r0, "name"), "net");
    CHECK_STR(orc_json_str(r0, "cniVersion"), "1.0.0");
    CHECK(json_object_get(r0, "prevResult") == NULL);
    CHECK(json_object_get(r0, "runtimeConfig") == NULL); /* no capability declared */
    CHECK(json_equal(json_object_get(r1, "prevResult"), prev));
    CHECK(json_equal(orc_json_get(r1, "runtimeConfig.portMappings"), json_object_get(rt, "portMappings")));
    CHECK(orc_json_get(r1, "runtimeConfig.bandwidth") == NULL); /* declared, but orc has none */
    json_decref(r0);
    json_decref(r1);
    json_decref(prev);
    json_decref(rt);
    rt = net_cni_runtime(NULL, 0);
    CHECK(rt && json_object_size(rt) == 0);
    json_decref(rt);
    json_decref(l);
}

TEST(result_ip_of_every_version)
{
    char ip[46], gw[46];
    json_t *v1 = json_loads("{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"fd00::5/64\"},"
                            "{\"address\":\"10.42.3.7/24\",\"gateway\":\"10.42.3.1\",\"interface\":0}]}",
                            0, NULL);
    json_t *v2 = json_loads("{\"cniVersion\":\"0.2.0\",\"ip4\":{\"ip\":\"10.1.2.3/16\"}}", 0, NULL);
    json_t *none = json_loads("{\"cniVersion\":\"1.0.0\",\"ips\":[]}", 0, NULL);

    CHECK_INT(net_cni_result_ip(v1, ip, gw), ==, 0);
    CHECK_STR(ip, "10.42.3.7");
    CHECK_STR(gw, "10.42.3.1");
    CHECK_INT(net_cni_result_ip(v2, ip, gw), ==, 0);
    CHECK_STR(ip, "10.1.2.3");
    CHECK_STR(gw, "");
    CHECK_INT(net_cni_result_ip(none, ip, gw), ==, ORC_ENOENT);
    CHECK_INT(net_cni_result_ip(NULL, ip, gw), ==, ORC_ENOENT);
    json_decref(v1);
    json_decref(v2);
    json_decref(none);
}

TEST(args_as_the_kubelet_passes_them)
{
    char args[600];

    net_cni_args("u-1", "default", "web-0", args, sizeof args);
    CHECK_STR(args, "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;"
                    "K8S_POD_INFRA_CONTAINER_ID=u-1;K8S_POD_UID=u-1");
}

/* A plugin that records its environment and stdin and answers a result. */
#define ECHO_PLUGIN                                                                        \
    "#!/bin/sh\nenv | grep ^CNI_ | sort > \"$(dirname \"$0\")/env.$CNI_COMMAND\"\n"         \
    "cat > \"$(dirname \"$0\")/stdin.$CNI_COMMAND\"\n"                                     \
    "[ \"$CNI_COMMAND\" = ADD ] && echo '{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.5.0.9/24\"}]}'\n" \
    "exit 0\n"

static struct net_cni_call call_in(const char *bin, const char *cmd)
{
    return (struct net_cni_call){cmd, "uid-1", "/var/run/netns/x", NULL, "K8S_POD_NAME=p", bin, 2000};
}

TEST(exec_passes_environment_and_config)
{
    const char *bin = test_tmpdir();
    char path[1024], msg[NET_ERRLEN];
    struct net_cni_call call = call_in(bin, "ADD");
    struct orc_buf b = ORC_BUF_INIT;
    json_t *conf = json_pack("{s:s, s:s, s:s}", "cniVersion", "1.0.0", "name", "n", "type", "echo"), *res;

    put(bin, "echo", ECHO_PLUGIN, 0755);
    CHECKF(net_cni_exec(&call, conf, &res, msg) == 0, "%s", msg);
    CHECK_STR(orc_json_str(json_array_get(json_object_get(res, "ips"), 0), "address"), "10.5.0.9/24");
    json_decref(res);
    snprintf(path, sizeof path, "%s/env.ADD", bin);
    CHECK(orc_file_read(path, 4096, &b) == 0);
    CHECKF(strstr(b.data, "CNI_COMMAND=ADD\n") && strstr(b.data, "CNI_CONTAINERID=uid-1\n")
               && strstr(b.data, "CNI_IFNAME=eth0\n") && strstr(b.data, "CNI_NETNS=/var/run/netns/x\n")
               && strstr(b.data, "CNI_ARGS=K8S_POD_NAME=p\n"),
           "env: %s", b.data);
    orc_buf_reset(&b);
    snprintf(path, sizeof path, "%s/stdin.ADD", bin);
    CHECK(orc_file_read(path, 4096, &b) == 0);
    CHECK_STR(b.data, "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"echo\"}");
    orc_buf_free(&b);
    call = call_in(bin, "DEL");
    CHECKF(net_cni_exec(&call, conf, &res, msg) == 0, "%s", msg);
    CHECK(res == NULL);
    json_decref(conf);
}

TEST(exec_reports_the_plugins_error_missing_plugins_and_hangs)
{
    const char *bin = test_tmpdir();
    char msg[NET_ERRLEN];
    struct net_cni_call call = call_in(bin, "ADD");
    json_t *conf = json_pack("{s:s, s:s, s:s}", "cniVersion", "1.0.0", "name", "mynet", "type", "bad"), *res;
    uint64_t t0;

    put(bin, "bad", "#!/bin/sh\necho '{\"cniVersion\":\"1.0.0\",\"code\":11,\"msg\":\"failed to allocate "
                    "for range 0\",\"details\":\"no IP addresses available\"}'\nexit 1\n", 0755);
    CHECK_INT(net_cni_exec(&call, conf, &res, msg), ==, ORC_EIO);
    CHECK_STR(msg, "plugin type=\"bad\" name=\"mynet\" failed (add): failed to allocate for range 0; "
                   "no IP addresses available (code 11)");
    put(bin, "bad", "#!/bin/sh\necho 'panic: something' >&2\nexit 2\n", 0755);
    CHECK_INT(net_cni_exec(&call, conf, &res, msg), ==, ORC_EIO);
    CHECK_STR(msg, "plugin type=\"bad\" name=\"mynet\" failed (add): panic: something");
    put(bin, "bad", "#!/bin/sh\necho not json\n", 0755);
    CHECK_INT(net_cni_exec(&call, conf, &res, msg), ==, ORC_EPROTO);
    CHECKF(strstr(msg, "not a JSON object") != NULL, "%s", msg);
    put(bin, "bad", "#!/bin/sh\nexec sleep 30\n", 0755);
    call.timeout_ms = 300;
    t0 = test_now_ms();
    CHECK_INT(net_cni_exec(&call, conf, &res, msg), ==, ORC_ETIMEDOUT);
    CHECK_INT(test_now_ms() - t0, <, 5000);
    CHECKF(strstr(msg, "no answer in 300 ms") != NULL, "%s", msg);
    json_object_set_new(conf, "type", json_string("missing"));
    CHECK_INT(net_cni_exec(&call, conf, &res, msg), ==, ORC_ENOENT);
    CHECKF(strstr(msg, "failed to find plugin \"missing\" in path") != NULL, "%s", msg);
    json_decref(conf);
}
