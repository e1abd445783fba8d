/* net_ipt.c — the node's iptables rules: outbound masquerade, hostPort DNAT
 * and forwarding, each in a chain of the node's own, changed in one
 * iptables-restore transaction per step (atomic, one process). */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent/net.h"
#include "agent/net_int.h"
#include "lib/orc.h"
#include "lib/run.h"

/* $PATH may lack the sbin directories (agents started by hand). */
static const char *tool(const char *name, char *buf, size_t n)
{
    static const char *const dirs[] = {"/usr/sbin", "/sbin", "/usr/bin", "/bin"};

    for (size_t i = 0; i < ORC_ARRAY_LEN(dirs); i++) {
        snprintf(buf, n, "%s/%s", dirs[i], name);
        if (access(buf, X_OK) == 0) return buf;
    }
    return name;
}

static int run_tool(char **argv, const char *in, struct orc_buf *out, char *errmsg)
{
    struct orc_buf err = ORC_BUF_INIT;
    struct orc_run_io io = {in, in ? strlen(in) : 0, out, &err};
    char line[200];
    int st = orc_run(argv, &io), code;

    if (st == 0) {
        orc_buf_free(&err);
        return 0;
    }
    orc_run_first_line(err.data, line, sizeof line);
    if (st < 0) code = st;
    else if (strstr(line, "ermission denied") || strstr(line, "must be root")) code = ORC_EPERM;
    else if (strstr(line, "does not exist") || strstr(line, "No chain")) code = ORC_ENOENT;
    else code = ORC_EIO;
    orc_buf_free(&err);
    if (st < 0)
        return orc_errf(errmsg, NET_ERRLEN, code, "%s: %s", argv[0], orc_strerror(st));
    return orc_errf(errmsg, NET_ERRLEN, code, "%s: %s", argv[0], line[0] ? line : "failed");
}

int net_ipt_restore(const char *script, char *errmsg)
{
    char path[64];
    char *argv[] = {(char *)tool("iptables-restore", path, sizeof path), "-w", "--noflush", NULL};

    return run_tool(argv, script, NULL, errmsg);
}

int net_ipt_list(const char *table, const char *chain, struct orc_buf *out, char *errmsg)
{
    char path[64];
    char *argv[] = {(char *)tool("iptables", path, sizeof path), "-w", "-t", (char *)table, "-S",
                    (char *)chain, NULL};

    orc_buf_reset(out);
    return run_tool(argv, NULL, out, errmsg);
}

/* The next line of text from *pos, NUL-terminated into line (n bytes);
 * false at the end. */
static bool next_line(const char **pos, char *line, size_t n)
{
    const char *p = *pos, *nl;
    size_t len;

    if (p == NULL || *p == '\0') return false;
    nl = strchr(p, '\n');
    len = nl ? (size_t)(nl - p) : strlen(p);
    *pos = nl ? nl + 1 : p + len;
    if (len >= n) len = n - 1; /* longer rules are never ours */
    memcpy(line, p, len);
    line[len] = '\0';
    return true;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Whether `-S` output has a rule in chain jumping to target. */
static bool has_jump(const char *rules, const char *chain, const char *target)
{
    char line[1024], head[64], tail[64];
    const char *pos = rules;

    snprintf(head, sizeof head, "-A %s ", chain);
    snprintf(tail, sizeof tail, " -j %s", target);
    while (next_line(&pos, line, sizeof line))
        if (strncmp(line, head, strlen(head)) == 0 && ends_with(line, tail)) return true;
    return false;
}

static bool has_chain(const char *rules, const char *chain)
{
    char line[1024], want[64];
    const char *pos = rules;

    snprintf(want, sizeof want, "-N %s", chain);
    while (next_line(&pos, line, sizeof line))
        if (strcmp(line, want) == 0) return true;
    return false;
}

/* Appends to a script, remembering the first failure so the script is
 * either whole or not run at all. */
static void emit(struct orc_buf *s, int *rv, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void emit(struct orc_buf *s, int *rv, const char *fmt, ...)
{
    va_list ap;

    if (*rv != 0) return;
    va_start(ap, fmt);
    *rv = orc_buf_vprintf(s, fmt, ap);
    va_end(ap);
}

static int nat_script(struct orc_buf *s, const struct net_names *nm, const char *cidr,
                      bool masquerade, const char *rules)
{
    const char *br = nm->bridge, *c = nm->comment;
    int rv = 0;

    emit(s, &rv, "*nat\n:%s - [0:0]\n", nm->post);
    if (!has_chain(rules, nm->hp)) emit(s, &rv, ":%s - [0:0]\n", nm->hp);
    /* The masquerade chain survives a restart: other nodes' pod CIDRs stay
     * exempt until the Nodes are listed again. */
    if (masquerade && !has_chain(rules, nm->masq))
        emit(s, &rv, ":%s - [0:0]\n-A %s -m comment --comment %s -j MASQUERADE\n", nm->masq,
             nm->masq, c);
    if (masquerade)
        emit(s, &rv, "-A %s -s %s ! -o %s -m comment --comment \"%s masquerade\" -j %s\n",
             nm->post, cidr, br, c, nm->masq);
    /* A pod reaching a hostPort that leads back to a pod of this bridge: the
     * answer must come back through the host to be un-NATed. */
    emit(s, &rv, "-A %s -s %s -d %s -m conntrack --ctstate DNAT -m comment --comment "
                 "\"%s hairpin\" -j MASQUERADE\n", nm->post, cidr, cidr, c);
    /* 127.0.0.1:hostPort from the node: the pod cannot answer 127.0.0.1. */
    emit(s, &rv, "-A %s -s 127.0.0.0/8 -o %s -m comment --comment \"%s localhost\" "
                 "-j MASQUERADE\n", nm->post, br, c);
    if (!has_jump(rules, "POSTROUTING", nm->post))
        emit(s, &rv, "-A POSTROUTING -m comment --comment %s -j %s\n", c, nm->post);
    if (!has_jump(rules, "PREROUTING", nm->hp))
        emit(s, &rv, "-A PREROUTING -m addrtype --dst-type LOCAL -m comment --comment %s -j %s\n",
             c, nm->hp);
    if (!has_jump(rules, "OUTPUT", nm->hp))
        emit(s, &rv, "-A OUTPUT -m addrtype --dst-type LOCAL -m comment --comment %s -j %s\n", c,
             nm->hp);
    emit(s, &rv, "COMMIT\n");
    return rv;
}

static int filter_script(struct orc_buf *s, const struct net_names *nm, const char *rules)
{
    const char *br = nm->bridge, *c = nm->comment;
    int rv = 0;

    emit(s, &rv, "*filter\n:%s - [0:0]\n:%s - [0:0]\n", nm->fwd, nm->in);
    /* Pod traffic is forwarded whatever FORWARD's policy (Docker sets DROP). */
    emit(s, &rv, "-A %s -i %s -m comment --comment %s -j ACCEPT\n", nm->fwd, br, c);
    emit(s, &rv, "-A %s -o %s -m comment --comment %s -j ACCEPT\n", nm->fwd, br, c);
    /* route_localnet on the bridge (for 127.0.0.1 hostPorts) must not let a
     * pod reach the node's loopback services (CVE-2020-8558). */
    emit(s, &rv, "-A %s -i %s -d 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT "
                 "-m comment --comment \"%s localhost guard\" -j DROP\n", nm->in, br, c);
    if (!has_jump(rules, "FORWARD", nm->fwd))
        emit(s, &rv, "-I FORWARD 1 -m comment --comment %s -j %s\n", c, nm->fwd);
    if (!has_jump(rules, "INPUT", nm->in))
        emit(s, &rv, "-I INPUT 1 -m comment --comment %s -j %s\n", c, nm->in);
    emit(s, &rv, "COMMIT\n");
    return rv;
}

int net_ipt_open(const struct net_names *nm, const struct net_cidr *cidr, bool masquerade,
                 char *errmsg)
{
    struct orc_buf nat = ORC_BUF_INIT, filter = ORC_BUF_INIT, s = ORC_BUF_INIT;
    char net[16], c[24];
    int rv;

    net_ip_str(cidr->net, net);
    snprintf(c, sizeof c, "%s/%d", net, cidr->prefix);
    rv = net_ipt_list("nat", NULL, &nat, errmsg);
    if (rv == 0) rv = net_ipt_list("filter", NULL, &filter, errmsg);
    if (rv == 0) {
        rv = nat_script(&s, nm, c, masquerade, nat.data);
        if (rv == 0) rv = filter_script(&s, nm, filter.data);
        if (rv == 0) rv = net_ipt_restore(s.data, errmsg);
        else orc_errf(errmsg, NET_ERRLEN, rv, "out of memory");
    }
    orc_buf_free(&nat);
    orc_buf_free(&filter);
    orc_buf_free(&s);
    return rv;
}

int net_ipt_peers(const struct net_names *nm, const char *const *cidrs, size_t n, char *errmsg)
{
    struct orc_buf s = ORC_BUF_INIT;
    int rv = 0;

    /* Declaring the chain flushes it: the whole list is replaced at once. */
    emit(&s, &rv, "*nat\n:%s - [0:0]\n", nm->masq);
    for (size_t i = 0; i < n; i++)
        emit(&s, &rv, "-A %s -d %s -m comment --comment \"%s pod network\" -j RETURN\n", nm->masq,
             cidrs[i], nm->comment);
    emit(&s, &rv, "-A %s -m comment --comment %s -j MASQUERADE\nCOMMIT\n", nm->masq, nm->comment);
    if (rv != 0) rv = orc_errf(errmsg, NET_ERRLEN, rv, "out of memory");
    else rv = net_ipt_restore(s.data, errmsg);
    orc_buf_free(&s);
    return rv;
}

/* -D for each of the pod's current rules, from the chain's listing. */
static int delete_old(struct orc_buf *s, const struct net_names *nm, const char *uid, char *errmsg)
{
    struct orc_buf rules = ORC_BUF_INIT;
    char line[1024], tagged[96];
    const char *pos;
    int rv = net_ipt_list("nat", nm->hp, &rules, errmsg);

    snprintf(tagged, sizeof tagged, " pod=%s\"", uid);
    for (pos = rules.data; rv == 0 && next_line(&pos, line, sizeof line);)
        if (strncmp(line, "-A ", 3) == 0 && strstr(line, tagged))
            rv = orc_buf_printf(s, "-D %s\n", line + 3);
    orc_buf_free(&rules);
    return rv;
}

static int add_new(struct orc_buf *s, const struct net_names *nm, const char *uid, uint32_t ip,
                   const struct net_port *ports, size_t n, char *errmsg)
{
    struct net_hp_ent e;
    char pod[16];
    int rv = 0;

    net_ip_str(ip, pod);
    for (size_t i = 0; rv == 0 && i < n; i++) {
        if (ports[i].host_port <= 0) continue;
        rv = net_hp_entry(uid, &ports[i], &e, errmsg);
        if (rv != 0) return rv;
        rv = orc_buf_printf(s, "-A %s -p %s%s%s%s -m comment --comment \"%s pod=%s\" -m %s "
                               "--dport %d -j DNAT --to-destination %s:%d\n",
                            nm->hp, e.proto, e.host_ip[0] ? " -d " : "", e.host_ip,
                            e.host_ip[0] ? "/32" : "", nm->comment, uid, e.proto, e.port, pod,
                            ports[i].container_port);
    }
    return rv;
}

int net_ipt_pod_ports(const struct net_names *nm, const char *uid, uint32_t pod_ip,
                      const struct net_port *ports, size_t n, bool has_old, char *errmsg)
{
    struct orc_buf s = ORC_BUF_INIT;
    int rv = orc_buf_puts(&s, "*nat\n");
    size_t empty = s.len;

    if (rv == 0 && has_old) rv = delete_old(&s, nm, uid, errmsg);
    if (rv == 0) rv = add_new(&s, nm, uid, pod_ip, ports, n, errmsg);
    if (rv == ORC_ENOMEM) orc_errf(errmsg, NET_ERRLEN, rv, "out of memory");
    if (rv == 0 && s.len > empty) {
        rv = orc_buf_puts(&s, "COMMIT\n");
        if (rv == 0) rv = net_ipt_restore(s.data, errmsg);
    }
    orc_buf_free(&s);
    return rv;
}

/* Deletes the jumps into the node's chains, then flushes and removes them. */
static int destroy_table(struct orc_buf *s, const char *table, const char *prefix, char *errmsg)
{
    struct orc_buf rules = ORC_BUF_INIT;
    char line[1024], jump[64], own[64];
    const char *pos;
    int rv = net_ipt_list(table, NULL, &rules, errmsg);

    snprintf(jump, sizeof jump, " -j %s", prefix);
    snprintf(own, sizeof own, "-A %s", prefix);
    if (rv == 0) rv = orc_buf_printf(s, "*%s\n", table);
    for (pos = rules.data; rv == 0 && next_line(&pos, line, sizeof line);)
        if (strncmp(line, "-A ", 3) == 0 && strncmp(line, own, strlen(own)) != 0 && strstr(line, jump))
            rv = orc_buf_printf(s, "-D %s\n", line + 3);
    /* every chain flushed before any is removed: one may jump to another */
    for (int pass = 0; pass < 2; pass++)
        for (pos = rules.data; rv == 0 && next_line(&pos, line, sizeof line);)
            if (strncmp(line, "-N ", 3) == 0 && strncmp(line + 3, prefix, strlen(prefix)) == 0)
                rv = orc_buf_printf(s, "-%c %s\n", pass ? 'X' : 'F', line + 3);
    if (rv == 0) rv = orc_buf_puts(s, "COMMIT\n");
    orc_buf_free(&rules);
    return rv;
}

int net_ipt_destroy(const struct net_names *nm, char *errmsg)
{
    struct orc_buf s = ORC_BUF_INIT;
    char prefix[32];
    int rv;

    snprintf(prefix, sizeof prefix, "ORC-%s-", nm->tag);
    rv = destroy_table(&s, "nat", prefix, errmsg);
    if (rv == 0) rv = destroy_table(&s, "filter", prefix, errmsg);
    if (rv == ORC_ENOMEM) orc_errf(errmsg, NET_ERRLEN, rv, "out of memory");
    if (rv == 0 && (strstr(s.data, "\n-D ") || strstr(s.data, "\n-X ")))
        rv = net_ipt_restore(s.data, errmsg);
    orc_buf_free(&s);
    return rv;
}
