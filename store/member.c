/* member.c — Raft membership: bootstrap of a first member, quorum-loss
 * recovery, and adding/removing members through the leader. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/log.h"
#include "lib/orc.h"
#include "store/store_int.h"

bool store_is_fresh(const store *s)
{
    char path[4200];
    struct stat st;

    for (int i = 1; i <= 2; i++) {
        snprintf(path, sizeof path, "%s/metadata%d", s->raft_dir, i);
        if (stat(path, &st) == 0) return false;
    }
    return true;
}

/* Writes a configuration with this member as the only voter, through
 * raft_bootstrap (fresh dir) or raft_recover (existing dir). */
static int self_config(store *s, bool recover, char *errmsg)
{
    struct raft_configuration conf;
    char local[256];
    int rv;

    if (errmsg == NULL) errmsg = local;
    errmsg[0] = '\0';
    if (s->started || s->closing) {
        store__errf(errmsg, "the store must not be started");
        return ORC_EINVAL;
    }
    /* After a reset this member is alone: no peer heals a damaged log. */
    if (recover && !s->verified) {
        if ((rv = store__verify(s, true, errmsg)) != 0) return rv;
        s->verified = true;
    }
    raft_configuration_init(&conf);
    rv = raft_configuration_add(&conf, s->id, s->address, RAFT_VOTER);
    if (rv == 0) rv = recover ? raft_recover(&s->raft, &conf) : raft_bootstrap(&s->raft, &conf);
    raft_configuration_close(&conf);
    if (rv == RAFT_CANTBOOTSTRAP) {
        store__errf(errmsg, "%s already holds Raft state: cannot bootstrap", s->raft_dir);
        return ORC_EEXIST;
    }
    if (rv != 0) {
        store__errf(errmsg, "%s %s: %s", recover ? "recover" : "bootstrap", s->raft_dir,
                 raft_errmsg(&s->raft)[0] ? raft_errmsg(&s->raft) : raft_strerror(rv));
        return store__raft_err(rv);
    }
    log_info("store", "member %llu: %s as a one-member cluster at %s",
             (unsigned long long)s->id, recover ? "reset" : "bootstrapped", s->address);
    return 0;
}

int store_bootstrap(store *s, char *errmsg) { return self_config(s, false, errmsg); }

int store_reset_cluster(store *s, char *errmsg) { return self_config(s, true, errmsg); }

int store_members(const store *s, struct store_member **out, size_t *n)
{
    const struct raft_configuration *c = &s->raft.configuration;
    struct store_member *m;

    *out = NULL;
    *n = 0;
    if (s->raft_phase != RAFT_PHASE_OPEN || c->n == 0) return 0; /* raft closed for a rebuild */
    if ((m = calloc(c->n, sizeof *m)) == NULL) return ORC_ENOMEM;
    for (unsigned i = 0; i < c->n; i++) {
        m[i].id = c->servers[i].id;
        snprintf(m[i].address, sizeof m[i].address, "%s", c->servers[i].address);
        m[i].role = c->servers[i].role == RAFT_VOTER     ? STORE_ROLE_VOTER
                    : c->servers[i].role == RAFT_STANDBY ? STORE_ROLE_STANDBY
                                                         : STORE_ROLE_SPARE;
    }
    *out = m;
    *n = c->n;
    return 0;
}

/* ---- changes ---- */

struct change_req {
    struct store_req req;
    struct raft_change change;
    uint64_t id;
    void (*cb)(void *arg, int status);
    void *arg;
};

static const struct raft_server *find_server(const store *s, uint64_t id)
{
    for (unsigned i = 0; i < s->raft.configuration.n; i++)
        if (s->raft.configuration.servers[i].id == id) return &s->raft.configuration.servers[i];
    return NULL;
}

static void change_finish(struct change_req *ch, int status)
{
    orc_list_remove(&ch->req.link);
    if (!ch->req.done && ch->cb) ch->cb(ch->arg, store__raft_err(status));
    free(ch);
}

void store__change_fail(struct store_req *req, int status)
{
    struct change_req *ch = ORC_CONTAINER(req, struct change_req, req);

    if (ch->cb) ch->cb(ch->arg, status);
}

static void change_done(struct raft_change *c, int status)
{
    struct change_req *ch = c->data;

    if (status != 0)
        log_warn("store", "membership change for member %llu failed: %s",
                 (unsigned long long)ch->id, raft_strerror(status));
    change_finish(ch, status);
}

/* Raft catches the new member up (by snapshot if needed) before the
 * promotion commits. */
static void change_added(struct raft_change *c, int status)
{
    struct change_req *ch = c->data;
    store *s = ch->req.s;
    int rv;

    if (status != 0 || ch->req.done || s->closing) {
        change_done(c, status != 0 ? status : RAFT_SHUTDOWN);
        return;
    }
    rv = raft_assign(&s->raft, &ch->change, ch->id, RAFT_VOTER, change_done);
    if (rv != 0) change_done(c, rv);
}

static struct change_req *change_new(store *s, uint64_t id, void (*cb)(void *, int), void *arg)
{
    struct change_req *ch = calloc(1, sizeof *ch);

    if (ch == NULL) return NULL;
    ch->req.s = s;
    ch->req.kind = REQ_CHANGE;
    ch->change.data = ch;
    ch->id = id;
    ch->cb = cb;
    ch->arg = arg;
    return ch;
}

static int leader_only(const store *s)
{
    if (s->closing) return ORC_ESHUTDOWN;
    if (!s->started || raft_state((struct raft *)&s->raft) != RAFT_LEADER) return ORC_ENOTLEADER;
    return 0;
}

int store_add_member(store *s, uint64_t id, const char *raft_address,
                     void (*cb)(void *arg, int status), void *arg)
{
    const struct raft_server *srv;
    struct change_req *ch;
    int rc, rv;

    if ((rc = leader_only(s)) != 0) return rc;
    if (id == 0 || raft_address == NULL || raft_address[0] == '\0') return ORC_EINVAL;
    srv = find_server(s, id);
    if (srv != NULL && (srv->role == RAFT_VOTER || strcmp(srv->address, raft_address) != 0))
        return ORC_EEXIST;
    if ((ch = change_new(s, id, cb, arg)) == NULL) return ORC_ENOMEM;
    orc_list_push(&s->reqs, &ch->req.link);
    if (srv != NULL) /* added earlier, never promoted: promote now */
        rv = raft_assign(&s->raft, &ch->change, id, RAFT_VOTER, change_done);
    else
        rv = raft_add(&s->raft, &ch->change, id, raft_address, change_added);
    if (rv != 0) {
        orc_list_remove(&ch->req.link);
        free(ch);
        return store__raft_err(rv);
    }
    log_info("store", "adding member %llu at %s", (unsigned long long)id, raft_address);
    return 0;
}

int store_remove_member(store *s, uint64_t id, void (*cb)(void *arg, int status), void *arg)
{
    struct change_req *ch;
    int rc, rv;

    if ((rc = leader_only(s)) != 0) return rc;
    if (find_server(s, id) == NULL) return ORC_ENOENT;
    if ((ch = change_new(s, id, cb, arg)) == NULL) return ORC_ENOMEM;
    orc_list_push(&s->reqs, &ch->req.link);
    if ((rv = raft_remove(&s->raft, &ch->change, id, change_done)) != 0) {
        orc_list_remove(&ch->req.link);
        free(ch);
        return store__raft_err(rv);
    }
    log_info("store", "removing member %llu", (unsigned long long)id);
    return 0;
}
