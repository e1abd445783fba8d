/* limitrange.h — LimitRange admission (limitrange.c). Internal to
 * apiserver/. */
#ifndef ORC_API_LIMITRANGE_H
#define ORC_API_LIMITRANGE_H

#include <jansson.h>

struct write_op;

/* For a new pod or claim, or an updated claim (op->k) in op->rt->ns:
 * applies the namespace's LimitRange defaults to obj (a pod's containers)
 * and checks its min, max and maxLimitRequestRatio. 0, or answers (403 naming each violated
 * limit, 500) and returns an error. Other kinds: 0. */
int limitrange_admit(struct write_op *op, json_t *obj);

#endif
