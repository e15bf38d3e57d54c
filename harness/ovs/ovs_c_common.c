/* See ovs_c_common.h. */
#include <config.h>

#include "harness/ovs/ovs_c_common.h"

#include <pthread.h>
#include <time.h>

#include "fatal-signal.h"
#include "openvswitch/vlog.h"
#include "util.h"

/* OVS's fatal-signal module installs handlers for SIGTERM, SIGINT, SIGHUP,
 * SIGALRM and SIGSEGV (where they are SIG_DFL) that only act when
 * poll_block() next runs: in lmh, which is not an OVS daemon, that would
 * swallow a Ctrl-C between calls. poll_block() initialises the module on
 * first use, so it is initialised here and the previous dispositions put
 * back. Logging goes to stderr for errors only, never to syslog. */
static void
init_library(void)
{
    static const int signals[] = { SIGTERM, SIGINT, SIGHUP, SIGALRM, SIGSEGV };
    struct sigaction saved[ARRAY_SIZE(signals)];

    for (size_t i = 0; i < ARRAY_SIZE(signals); i++) {
        sigaction(signals[i], NULL, &saved[i]);
    }
    fatal_signal_init();
    for (size_t i = 0; i < ARRAY_SIZE(signals); i++) {
        sigaction(signals[i], &saved[i], NULL);
    }
    vlog_set_levels(NULL, VLF_SYSLOG, VLL_OFF);
    vlog_set_levels(NULL, VLF_FILE, VLL_OFF);
    vlog_set_levels(NULL, VLF_CONSOLE, VLL_ERR);
}

void
lmh_ovs_library_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;

    pthread_once(&once, init_library);
}

/* OVS writes to its sockets with send() or write() without MSG_NOSIGNAL,
 * so a peer that died turns into SIGPIPE, which by default kills lmh.
 * ovs-vsctl and ovs-ofctl ignore SIGPIPE for the whole process; a library
 * must not, so a call blocks it on the calling thread and discards, before
 * unblocking, a SIGPIPE the call itself raised (a write raises it on the
 * writing thread). The write then fails with EPIPE, which OVS handles as a
 * lost connection. */
void
lmh_ovs_block_sigpipe(struct lmh_ovs_sigpipe_guard *guard)
{
    sigset_t pipe_set, pending;

    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigpending(&pending);
    guard->was_pending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &guard->saved_mask);
}

void
lmh_ovs_unblock_sigpipe(struct lmh_ovs_sigpipe_guard *guard)
{
    if (!guard->was_pending && !sigismember(&guard->saved_mask, SIGPIPE)) {
        sigset_t pipe_set;
        struct timespec zero = { 0, 0 };

        sigemptyset(&pipe_set);
        sigaddset(&pipe_set, SIGPIPE);
        while (sigtimedwait(&pipe_set, NULL, &zero) == SIGPIPE) {
            continue;
        }
    }
    pthread_sigmask(SIG_SETMASK, &guard->saved_mask, NULL);
}
