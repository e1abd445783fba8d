/* list.h — intrusive circular doubly-linked list, the one every module
 * uses; a head is a sentinel link. Removal needs no head, so an element can
 * leave whichever list it is on. */
#ifndef ORC_LIST_H
#define ORC_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct orc_link {
    struct orc_link *prev, *next;
};

static inline void orc_list_init(struct orc_link *h) { h->prev = h->next = h; }
static inline bool orc_list_empty(const struct orc_link *h) { return h->next == h; }

static inline void orc_list_push(struct orc_link *h, struct orc_link *e) /* at the tail */
{
    e->next = h;
    e->prev = h->prev;
    h->prev->next = e;
    h->prev = e;
}

/* At the head; with an element as h, inserts e right after it. */
static inline void orc_list_push_head(struct orc_link *h, struct orc_link *e)
{
    orc_list_push(h->next, e);
}

static inline void orc_list_remove(struct orc_link *e)
{
    e->prev->next = e->next;
    e->next->prev = e->prev;
    e->prev = e->next = e;
}

/* Moves every element of `from` to the tail of `to`. */
static inline void orc_list_splice(struct orc_link *to, struct orc_link *from)
{
    if (orc_list_empty(from)) return;
    from->next->prev = to->prev;
    to->prev->next = from->next;
    from->prev->next = to;
    to->prev = from->prev;
    orc_list_init(from);
}

#define ORC_CONTAINER(ptr, type, field) ((type *)(void *)((char *)(ptr) - offsetof(type, field)))

#endif
