/* pf_dial.c — a TCP socket made inside a pod's network namespace, for
 * port-forward: a socket belongs to the namespace it was created in, so a
 * short-lived thread enters the namespace, makes the socket and ends; the
 * loop then connects it to 127.0.0.1:PORT as any other socket (a pod
 * listening only on its loopback is reached, as the kubelet reaches it). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/serve_int.h"
#include "lib/orc.h"

struct sock_job {
    const char *netns;
    int fd, err;
};

static void *sock_thread(void *arg)
{
    struct sock_job *j = arg;
    int ns = open(j->netns, O_RDONLY | O_CLOEXEC);

    if (ns < 0 || setns(ns, CLONE_NEWNET) != 0) {
        j->err = errno;
        if (ns >= 0) close(ns);
        return NULL;
    }
    close(ns);
    if ((j->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) j->err = errno;
    return NULL; /* the thread ends, and its namespace with it */
}

int serve_pf_socket(const char *netns, int *fd, char *errmsg, size_t errlen)
{
    struct sock_job j = {netns, -1, 0};
    pthread_t t;
    int rv;

    if (netns == NULL || *netns == '\0') {
        if ((*fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) >= 0) return 0;
        snprintf(errmsg, errlen, "socket: %s", orc_strerror(-errno));
        return ORC_EIO;
    }
    if ((rv = pthread_create(&t, NULL, sock_thread, &j)) != 0) {
        snprintf(errmsg, errlen, "thread for %s: %s", netns, orc_strerror(-rv));
        return ORC_EIO;
    }
    pthread_join(t, NULL);
    if (j.err != 0) {
        snprintf(errmsg, errlen, "socket in %s: %s", netns, orc_strerror(-j.err));
        return ORC_EIO;
    }
    *fd = j.fd;
    return 0;
}
