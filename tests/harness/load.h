/* load.h — concurrent writers against a running test cluster, in their own
 * thread and loop: each writer creates ConfigMaps (generateName "wN-",
 * data {writer, seq}) one after another, moving to the next member when a
 * request fails. Every request carries a unique (writer, seq) marker so a
 * test can prove acknowledged writes exist exactly once. */
#ifndef ORC_TEST_LOAD_H
#define ORC_TEST_LOAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "tests/harness/cluster.h"

struct load_ack {
    char name[64];
    int writer;
    int seq;
    uint64_t sent_ms; /* test_now_ms() when the request was sent */
    uint64_t done_ms;
};

struct load {
    struct cluster *c;
    int writers;
    const char *ns; /* namespace, default "default" */
    /* results, valid after load_stop() */
    struct load_ack *acks;
    size_t n_acks, cap_acks;
    size_t n_failed;
    /* internals */
    pthread_t thread;
    volatile int stop;
    void *priv;
};

void load_start(struct load *l, struct cluster *c, int writers);
void load_stop(struct load *l);
void load_free(struct load *l);
/* Acknowledged writes so far (safe while the load runs). */
size_t load_acked(struct load *l);
/* First ack whose request was sent at or after t (ms), or NULL. */
const struct load_ack *load_first_ack_after(const struct load *l, uint64_t t);
/* Checks on member i (local reads): every ack is stored with its marker,
 * and no marker is stored twice. Fails the case otherwise. */
void load_verify(const struct load *l, int member);

#endif
