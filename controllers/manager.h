/* manager.h — the controller manager: the scheduler and every controller on
 * one thread with one loop, one HTTP client to this member's API and one set
 * of shared informers. orcd server runs it while its member is the Raft
 * leader (see docs/ARCHITECTURE.md, "Controllers run on the Raft leader"). */
#ifndef ORC_CONTROLLERS_MANAGER_H
#define ORC_CONTROLLERS_MANAGER_H

#include "controllers/ctl.h"

typedef struct ctl_manager ctl_manager;

struct ctl_manager_config {
    const char *server_url; /* this member's API (copied) */
    const char *token;      /* admin bearer token (copied; never logged) */
    const char *ca_pem;     /* cluster CA (copied) */
    const char *ca_key_pem; /* its key, for the CSR signer (copied, wiped at stop; may be NULL) */
    struct ctl_options opts; /* strings in it copied */
    const char *controllers; /* which run, as kube-controller-manager's
                                --controllers: "*" (NULL) = all, "-name"
                                leaves one out, "name" adds one ("-*"
                                first for none but those named) (copied) */
};

/* 0 when `list` (the --controllers value) names only known controllers;
 * else ORC_EINVAL with the unknown name in errmsg (256 bytes). */
int ctl_manager_check_list(const char *list, char *errmsg);

/* Starts the thread; controllers start once their informers are set up.
 * 0, or ORC_E* with a message logged. */
int ctl_manager_start(const struct ctl_manager_config *cfg, ctl_manager **out);
/* Stops every controller, closes the client and joins the thread. NULL
 * ignored. Safe to call from another loop's callback (it waits at most a
 * few hundred milliseconds). */
void ctl_manager_stop(ctl_manager *m);

#endif
