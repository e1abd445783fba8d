/* election.c — the randomness behind raft's election timers, which orc
 * supplies through raft_io's `random` (raft 0.15 draws every timeout from
 * [T, 2T], T the election timeout).
 *
 * In raft 0.15 a follower refuses to vote while it still knows a leader,
 * and forgets it only when its own timer fires. So when a leader dies the
 * first follower to time out is refused by the other, and the election is
 * won only after the *later* of the two followers' timers (and if the
 * later one's log is shorter, its bid is refused too and the first one
 * retries after a whole new timeout). Two changes shorten both waits
 * without weakening the protection against disruptive candidates:
 *   - a follower's timer is drawn from [T, 1.5T]: the later of two timers
 *     comes sooner. Split votes stay rare: with pre-vote, the first
 *     follower to time out is refused while the other still follows the
 *     leader, so two candidates compete only when both fire within about
 *     one round trip;
 *   - a candidate retries after [T/2, T]: a pre-vote refused because the
 *     other follower still knew the dead leader is asked again soon after
 *     that follower gave up. A pre-vote changes no term, so retrying it
 *     disturbs nothing. */
#include "lib/rand.h"
#include "store/store_int.h"

static int uniform(int min, int max)
{
    if (max <= min) return min;
    return min + (int)(orc_rand_u64() % (uint64_t)(max - min));
}

static int election_random(struct raft_io *io, int min, int max)
{
    store *s = ORC_CONTAINER(io, store, io);
    int t = (int)s->raft.election_timeout;

    if (min != t || max != 2 * t) return uniform(min, max); /* not an election timer */
    if (raft_state(&s->raft) == RAFT_CANDIDATE) return uniform(t / 2, t);
    return uniform(t, t + t / 2);
}

void store__election_init(store *s)
{
    s->io.random = election_random;
}
