/* registry.h — a real OCI registry for tests that pull images: Debian's
 * docker-registry on 127.0.0.1 (a port derived from the case's pid, so
 * parallel runs do not collide), storage in the case's tmpdir, optionally
 * behind htpasswd authentication; and a tiny test image built from
 * busybox-static with umoci, pushed with skopeo.
 *
 * Everything started is stopped when the case ends, pass or fail (the
 * registry is killed by pid through test_defer). Failures to set up fail
 * the case with the tool's output.
 *
 * The test image ("busybox"): /bin/busybox with applet links (sh, echo,
 * sleep, cat, ls, env, id, hostname, wget, nc, httpd, dd, head, tail, true,
 * false, kill, printf, mkdir, rm, touch, pwd, ps, grep, seq, wc, sed, stat,
 * test, yes, whoami), /etc/passwd with root (0), app (1000:1000) and
 * nobody (65534), /etc/group with app (1000) and extra (2000, member app),
 * /tmp (1777), config Cmd ["sh"], Env ["PATH=/bin"]. */
#ifndef ORC_TEST_REGISTRY_H
#define ORC_TEST_REGISTRY_H

#include <stdbool.h>
#include <sys/types.h>

struct registry {
    int port;
    char host[32];      /* "127.0.0.1:PORT": image references start with it */
    char url[64];       /* "http(s)://127.0.0.1:PORT": a registries.yaml endpoint */
    char dir[512];      /* config, storage, htpasswd, log */
    char log[600];      /* the registry's access log (one line per request) */
    bool auth;          /* htpasswd: user "orc", password below */
    bool tls;           /* HTTPS with a certificate for 127.0.0.1 ... */
    char ca_file[600];  /* ... issued by this test CA (PEM) */
    char user[16];
    char password[32];
    pid_t pid;          /* 0 when stopped */
};

/* Starts a registry and waits until it accepts connections (fails the case
 * after 10 s). with_auth: pulls and pushes need user/password. */
void registry_start(struct registry *r, bool with_auth);
/* The same over HTTPS: a fresh test CA (r->ca_file) and a certificate for
 * 127.0.0.1 made with the openssl command. */
void registry_start_tls(struct registry *r, bool with_auth);
/* Registries started from now on listen on every address of the test's
 * network namespace, not only 127.0.0.1: the netbed (netbed.h) runs the
 * test in a private lab namespace whose nodes reach it over the bridge. */
void registry_listen_all(bool on);
/* Kills it now (a registry that is down); idempotent. */
void registry_stop(struct registry *r);
/* Pushes the test image as HOST/repo_tag, e.g. "orc/busybox:1" or
 * "library/busybox:1.36" (for a docker.io mirror). */
void registry_push_busybox(struct registry *r, const char *repo_tag);
/* The test image as an OCI layout (tag "1"), built once per build dir
 * under $O/testdata and reused. */
const char *registry_busybox_layout(void);
/* How many requests the registry's log shows whose line contains `what`
 * (e.g. "GET /v2/orc/busybox/manifests/1"). */
int registry_count(const struct registry *r, const char *what);
/* Runs argv (NULL-terminated), output to `log` (may be NULL: /dev/null);
 * returns the exit status, -1 when it did not run. For test setup. */
int t_run(char *const argv[], const char *log);

#endif
