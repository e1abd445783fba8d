/* aio_defer.c — keeps io_destroy(2) off the store's loop thread.
 *
 * raft 0.15 (Debian 12) writes each Raft log segment through its own kernel
 * AIO context and destroys that context, on its loop thread, whenever it
 * finishes a segment (every segment switch and every snapshot). io_destroy
 * waits for an RCU grace period: 30-45 ms measured on these machines, during
 * which every request in flight waits. Raft calls it only once the
 * context's writes have completed, so nothing is lost by destroying the
 * context a moment later on a helper thread. raft makes the call through
 * libc's syscall(), which this file interposes for that one system call;
 * every other call is forwarded unchanged. Linked into orcd only. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <unistd.h>

#define QUEUE_LEN 64

typedef long (*syscall_fn)(long number, ...);

static syscall_fn real_syscall;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static unsigned long queue[QUEUE_LEN];
static unsigned head, count;
static int started; /* 1: helper thread running, -1: could not start */

static void *destroyer(void *arg)
{
    (void)arg;
    for (;;) {
        unsigned long ctx;

        pthread_mutex_lock(&mu);
        while (count == 0) pthread_cond_wait(&cond, &mu);
        ctx = queue[head];
        head = (head + 1) % QUEUE_LEN;
        count--;
        pthread_mutex_unlock(&mu);
        real_syscall(SYS_io_destroy, ctx);
    }
    return NULL;
}

static void init(void)
{
    pthread_t t;
    pthread_attr_t attr;

    real_syscall = (syscall_fn)dlsym(RTLD_NEXT, "syscall");
    if (real_syscall == NULL) return;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    started = pthread_create(&t, &attr, destroyer, NULL) == 0 ? 1 : -1;
    pthread_attr_destroy(&attr);
}

/* Queues the context; 0 when the queue is full or the helper is missing
 * (the caller then destroys it itself, as raft would have). */
static int defer(unsigned long ctx)
{
    int queued = 0;

    pthread_mutex_lock(&mu);
    if (started == 1 && count < QUEUE_LEN) {
        queue[(head + count) % QUEUE_LEN] = ctx;
        count++;
        queued = 1;
        pthread_cond_signal(&cond);
    }
    pthread_mutex_unlock(&mu);
    return queued;
}

long syscall(long number, ...)
{
    long a[6];
    va_list ap;

    pthread_once(&once, init);
    if (real_syscall == NULL) return -1; /* dlsym failed: cannot happen with glibc */
    va_start(ap, number);
    for (int i = 0; i < 6; i++) a[i] = va_arg(ap, long);
    va_end(ap);
    if (number == SYS_io_destroy && defer((unsigned long)a[0])) return 0;
    return real_syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
