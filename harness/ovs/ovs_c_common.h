/* What the C shims over Open vSwitch's library (ovsdb_c.c, openflow_c.c)
 * share: the library's process-wide set-up, and the SIGPIPE guard each of
 * their calls runs under. For those C files only; includes no OVS header. */
#ifndef LMH_HARNESS_OVS_C_COMMON_H
#define LMH_HARNESS_OVS_C_COMMON_H 1

#include <signal.h>
#include <stdbool.h>

/* Sets up OVS's library for lmh, once per process (any thread, any number
 * of times): its fatal-signal module without its signal handlers, logging
 * to stderr for errors only. Call before any other use of the library. */
void lmh_ovs_library_init(void);

/* The calling thread's SIGPIPE state, saved while a call runs. */
struct lmh_ovs_sigpipe_guard {
    sigset_t saved_mask;
    bool was_pending;
};

/* Blocks SIGPIPE on the calling thread, saving its state in 'guard'. */
void lmh_ovs_block_sigpipe(struct lmh_ovs_sigpipe_guard *guard);
/* Discards a SIGPIPE raised since lmh_ovs_block_sigpipe('guard') and
 * restores the thread's signal mask from 'guard'. */
void lmh_ovs_unblock_sigpipe(struct lmh_ovs_sigpipe_guard *guard);

#endif /* LMH_HARNESS_OVS_C_COMMON_H */
