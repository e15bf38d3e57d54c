/* Flow changes over one persistent OpenFlow connection, following
 * utilities/ovs-ofctl.c (open_vconn, get_port_map, open_vconn_for_flow_mod,
 * try_set_protocol, ofctl_flow_mod__). Unlike ovs-ofctl, which blocks in
 * vconn_transact() and friends until SIGALRM (--timeout) ends the process,
 * every wait here is bounded by the call's deadline; and what the switch
 * sends on its own (port status, echo requests), which vconn_transact()
 * would drop, is read and acted on. See openflow_c.h. */
#include <config.h>

#include "harness/ovs/openflow_c.h"

#include "harness/ovs/ovs_c_common.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "openvswitch/match.h"
#include "openvswitch/ofp-connection.h"
#include "openvswitch/ofp-errors.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofp-port.h"
#include "openvswitch/ofp-protocol.h"
#include "openvswitch/ofp-util.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vconn.h"
#include "socket-util.h"
#include "timeval.h"
#include "util.h"

/* An internal result: the connection failed (closed or reset by the
 * switch), so the call may reconnect once. Never returned to a caller. */
#define CONNECTION_LOST (-1)

struct lmh_openflow {
    char *target;
    int timeout_ms;
    struct vconn *vconn;             /* NULL: not connected */
    enum ofputil_protocol protocol;  /* the connection's flow format */
    struct ofputil_port_map ports;   /* port names, as the switch told them */
    bool ports_known;                /* 'ports' is the switch's whole set */
    char *error;                     /* of the last failed call, NULL after success */
    struct lmh_ovs_sigpipe_guard sigpipe;  /* while a call runs */
};

/* Records the message 'format' as 'of''s error and returns 'code'. */
static int OVS_PRINTF_FORMAT(3, 4)
fail(struct lmh_openflow *of, int code, const char *format, ...)
{
    va_list args;

    va_start(args, format);
    free(of->error);
    of->error = xvasprintf(format, args);
    va_end(args);
    return code;
}

/* Starts a public call on 'of': clears the last error, blocks SIGPIPE. */
static void
begin_call(struct lmh_openflow *of)
{
    free(of->error);
    of->error = NULL;
    lmh_ovs_block_sigpipe(&of->sigpipe);
}

/* Ends a public call on 'of' with result 'code', which it returns. A call
 * that succeeded on a second connection leaves no error from the first. */
static int
end_call(struct lmh_openflow *of, int code)
{
    if (code == LMH_OPENFLOW_OK) {
        free(of->error);
        of->error = NULL;
    }
    lmh_ovs_unblock_sigpipe(&of->sigpipe);
    return code;
}

/* Port names. */

/* Forgets every port name 'of' knows: a name may now stand for another
 * port number (a port deleted and added again gets a new one). */
static void
forget_ports(struct lmh_openflow *of)
{
    ofputil_port_map_destroy(&of->ports);
    ofputil_port_map_init(&of->ports);
    of->ports_known = false;
}

/* Applies OFPT_PORT_STATUS 'oh' to the names 'of' knows: a new port's name
 * joins them; anything else (a port deleted, a name seen twice) forgets
 * them all, to be asked for again when a flow names a port. */
static void
note_port_status(struct lmh_openflow *of, const struct ofp_header *oh)
{
    struct ofputil_port_status ps;

    if (!ofputil_decode_port_status(oh, &ps) && ps.reason == OFPPR_ADD
        && of->ports_known
        && ofputil_port_map_get_number(&of->ports, ps.desc.name) == OFPP_NONE) {
        ofputil_port_map_put(&of->ports, ps.desc.port_no, ps.desc.name);
    } else {
        forget_ports(of);
    }
}

/* The connection. */

/* Closes 'of''s connection, if any. Names go with it: a restarted switch
 * numbers its ports anew, and no port status tells of it. */
static void
disconnect(struct lmh_openflow *of)
{
    vconn_close(of->vconn);
    of->vconn = NULL;
    forget_ports(of);
}

/* Acts on 'msg', which the switch sent on its own: a port added or deleted
 * changes the names; an echo request wants its reply (the switch drops a
 * connection that stays silent too long). Frees 'msg'. */
static void
handle_async(struct lmh_openflow *of, struct ofpbuf *msg)
{
    enum ofptype type;

    if (!ofptype_decode(&type, msg->data)) {
        if (type == OFPTYPE_PORT_STATUS) {
            note_port_status(of, msg->data);
        } else if (type == OFPTYPE_ECHO_REQUEST) {
            struct ofpbuf *reply = ofputil_encode_echo_reply(msg->data);
            if (vconn_send(of->vconn, reply)) {
                ofpbuf_delete(reply);  /* Best effort: the next call reconnects. */
            }
        }
    }
    ofpbuf_delete(msg);
}

/* Sleeps in poll_block() until 'of''s connection can go on (send: has room
 * to send, else has something to receive) or 'deadline' passes. */
static void
wait_vconn(struct lmh_openflow *of, bool send, long long int deadline)
{
    vconn_run_wait(of->vconn);
    if (send) {
        vconn_send_wait(of->vconn);
    } else {
        vconn_recv_wait(of->vconn);
    }
    poll_timer_wait_until(deadline);
    poll_block();
}

static int
connection_lost(struct lmh_openflow *of, int error, const char *what)
{
    return fail(of, CONNECTION_LOST, "%s: %s: connection lost (%s)",
                of->target, what,
                error == EOF ? "closed by the switch" : ovs_strerror(error));
}

static int
timed_out(struct lmh_openflow *of, const char *what)
{
    return fail(of, LMH_OPENFLOW_DEADLINE_EXCEEDED,
                "%s: %s: no reply from the switch within %d ms", of->target,
                what, of->timeout_ms);
}

/* Sends 'msg' (which it takes) to 'of''s switch before 'deadline'. */
static int
send_msg(struct lmh_openflow *of, struct ofpbuf *msg, const char *what,
         long long int deadline)
{
    for (;;) {
        vconn_run(of->vconn);
        int error = vconn_send(of->vconn, msg);
        if (!error) {
            return LMH_OPENFLOW_OK;
        }
        if (error != EAGAIN) {
            ofpbuf_delete(msg);
            return connection_lost(of, error, what);
        }
        if (time_msec() >= deadline) {
            ofpbuf_delete(msg);
            return timed_out(of, what);
        }
        wait_vconn(of, true, deadline);
    }
}

/* Receives the next message from 'of''s switch into '*msgp' before
 * 'deadline'. */
static int
recv_msg(struct lmh_openflow *of, struct ofpbuf **msgp, const char *what,
         long long int deadline)
{
    for (;;) {
        vconn_run(of->vconn);
        int error = vconn_recv(of->vconn, msgp);
        if (!error) {
            return LMH_OPENFLOW_OK;
        }
        if (error != EAGAIN) {
            return connection_lost(of, error, what);
        }
        if (time_msec() >= deadline) {
            return timed_out(of, what);
        }
        wait_vconn(of, false, deadline);
    }
}

/* Reads, without waiting, what the switch sent since the last call. A
 * connection the switch closed meanwhile (restarted, or it found the
 * connection idle too long) is closed, to be made again. */
static void
drain(struct lmh_openflow *of)
{
    while (of->vconn) {
        struct ofpbuf *msg;

        vconn_run(of->vconn);
        int error = vconn_recv(of->vconn, &msg);
        if (error == EAGAIN) {
            return;
        } else if (error) {
            disconnect(of);
        } else {
            handle_async(of, msg);
        }
    }
}

/* Called by exchange() with each reply to its request but an error;
 * returns LMH_OPENFLOW_OK or why the reply is unusable. */
typedef int reply_handler(struct lmh_openflow *of, const struct ofpbuf *reply,
                          void *aux);

/* What 'reply' (of type 'type') to exchange()'s request 'what' means: an
 * OFPT_ERROR is the switch refusing the request; anything else goes to
 * 'handle' (NULL: ignored), with 'aux'. */
static int
take_reply(struct lmh_openflow *of, const struct ofpbuf *reply,
           enum ofptype type, reply_handler *handle, void *aux,
           const char *what)
{
    if (type == OFPTYPE_ERROR) {
        enum ofperr error = ofperr_decode_msg(reply->data, NULL);
        return fail(of, LMH_OPENFLOW_INTERNAL,
                    "%s: the switch refused %s: %s (%s)", of->target, what,
                    error ? ofperr_get_name(error) : "?",
                    error ? ofperr_get_description(error)
                          : "an undecodable OFPT_ERROR");
    }
    return handle ? handle(of, reply, aux) : LMH_OPENFLOW_OK;
}

/* Sends 'request' (which it takes) and a barrier, and reads until the
 * barrier's reply (the switch answers in order, so every reply to
 * 'request' comes before it): replies to 'request' go to 'handle', with
 * 'aux'; what the switch sends on its own to handle_async(). An OFPT_ERROR
 * for 'request' makes the exchange fail with LMH_OPENFLOW_INTERNAL. 'what'
 * names the request in errors. */
static int
exchange(struct lmh_openflow *of, struct ofpbuf *request,
         reply_handler *handle, void *aux, const char *what,
         long long int deadline)
{
    ovs_be32 xid = ((struct ofp_header *) request->data)->xid;
    struct ofpbuf *barrier
        = ofputil_encode_barrier_request(vconn_get_version(of->vconn));
    ovs_be32 barrier_xid = ((struct ofp_header *) barrier->data)->xid;
    int result = LMH_OPENFLOW_OK;

    int code = send_msg(of, request, what, deadline);
    if (code) {
        ofpbuf_delete(barrier);
        return code;
    }
    code = send_msg(of, barrier, what, deadline);
    while (!code) {
        struct ofpbuf *msg;
        enum ofptype type;

        code = recv_msg(of, &msg, what, deadline);
        if (code) {
            break;
        }
        ovs_be32 msg_xid = ((struct ofp_header *) msg->data)->xid;
        if (ofptype_decode(&type, msg->data)
            || type == OFPTYPE_PORT_STATUS || type == OFPTYPE_ECHO_REQUEST) {
            handle_async(of, msg);
            continue;
        }
        if (type == OFPTYPE_BARRIER_REPLY && msg_xid == barrier_xid) {
            ofpbuf_delete(msg);
            return result;
        }
        if (msg_xid == xid && !result) {
            result = take_reply(of, msg, type, handle, aux, what);
        }
        ofpbuf_delete(msg);
    }
    return code;
}

/* Asks the switch to send 'of''s connection port status messages, of ports
 * added and deleted only (nothing else it could send on its own). On the
 * management socket that is also what turns them on at all: a service
 * connection gets none until it sets its asynchronous configuration
 * (Documentation/topics/design.rst, "Asynchronous Messages"). */
static int
subscribe_port_status(struct lmh_openflow *of, long long int deadline)
{
    struct ofputil_async_cfg ac = OFPUTIL_ASYNC_CFG_INIT;
    uint32_t reasons = (1u << OFPPR_ADD) | (1u << OFPPR_DELETE);

    ac.primary[OAM_PORT_STATUS] = reasons;
    ac.secondary[OAM_PORT_STATUS] = reasons;
    return exchange(of,
                    ofputil_encode_set_async_config(
                        &ac, (1u << OAM_N_TYPES) - 1,
                        vconn_get_version(of->vconn)),
                    NULL, NULL, "asynchronous message configuration",
                    deadline);
}

/* Connects 'of' to its switch, negotiating the OpenFlow version as
 * ovs-ofctl does without -O (the highest both support). No switch at the
 * target is LMH_OPENFLOW_UNAVAILABLE, one that does not say hello in time
 * LMH_OPENFLOW_DEADLINE_EXCEEDED. */
static int
connect_switch(struct lmh_openflow *of, long long int deadline)
{
    int error = vconn_open(of->target, OFPUTIL_DEFAULT_VERSIONS, DSCP_DEFAULT,
                           &of->vconn);
    while (!error && vconn_connect(of->vconn) == EAGAIN) {
        if (time_msec() >= deadline) {
            disconnect(of);
            return fail(of, LMH_OPENFLOW_DEADLINE_EXCEEDED,
                        "%s: no OpenFlow hello from the switch within %d ms",
                        of->target, of->timeout_ms);
        }
        vconn_run(of->vconn);
        vconn_run_wait(of->vconn);
        vconn_connect_wait(of->vconn);
        poll_timer_wait_until(deadline);
        poll_block();
    }
    if (!error) {
        error = vconn_connect(of->vconn);
    }
    if (error) {
        disconnect(of);
        return fail(of, LMH_OPENFLOW_UNAVAILABLE, "%s: cannot connect (%s)",
                    of->target, ovs_strerror(error));
    }
    of->protocol = ofputil_protocol_from_ofp_version(
        vconn_get_version(of->vconn));
    int code = subscribe_port_status(of, deadline);
    if (code) {
        disconnect(of);  /* Names would go stale unseen on this connection. */
    }
    return code;
}

static int
ensure_connected(struct lmh_openflow *of, long long int deadline)
{
    return of->vconn ? LMH_OPENFLOW_OK : connect_switch(of, deadline);
}

/* reply_handler for a port description request: adds the ports of 'reply'
 * to 'of''s names, which the first part of the reply ('*first') replaces. */
static int
collect_ports(struct lmh_openflow *of, const struct ofpbuf *reply, void *first_)
{
    bool *first = first_;
    enum ofp_version version = vconn_get_version(of->vconn);
    struct ofpbuf b = ofpbuf_const_initializer(reply->data, reply->size);
    struct ofputil_phy_port pp;
    enum ofptype type;
    int error;

    if (ofptype_pull(&type, &b) || type != OFPTYPE_PORT_DESC_STATS_REPLY) {
        return fail(of, LMH_OPENFLOW_INTERNAL,
                    "%s: bad reply to a port description request", of->target);
    }
    if (*first) {
        forget_ports(of);
        of->ports_known = true;
        *first = false;
    }
    while (!(error = ofputil_pull_phy_port(version, &b, &pp))) {
        ofputil_port_map_put(&of->ports, pp.port_no, pp.name);
    }
    return (error == EOF ? LMH_OPENFLOW_OK
            : fail(of, LMH_OPENFLOW_INTERNAL, "%s: bad port description (%s)",
                   of->target, ofperr_to_string(error)));
}

/* Learns the names of all of the switch's ports (OFPMP_PORT_DESC), as
 * ovs-ofctl does before it parses a flow. */
static int
fetch_ports(struct lmh_openflow *of, long long int deadline)
{
    bool first = true;
    struct ofpbuf *request = ofputil_encode_port_desc_stats_request(
        vconn_get_version(of->vconn), OFPP_ANY);
    int code = exchange(of, request, collect_ports, &first,
                        "port description request", deadline);
    if (code || first) {
        forget_ports(of);
    }
    return code;
}

/* Flow format. */

/* Switches 'of''s connection to flow format 'want' (try_set_protocol()):
 * LMH_OPENFLOW_FAILED_PRECONDITION when the switch or the negotiated
 * version cannot. */
static int
try_set_protocol(struct lmh_openflow *of, enum ofputil_protocol want,
                 long long int deadline)
{
    for (;;) {
        enum ofputil_protocol next;
        struct ofpbuf *request
            = ofputil_encode_set_protocol(of->protocol, want, &next);
        if (!request) {
            return (of->protocol == want ? LMH_OPENFLOW_OK
                    : LMH_OPENFLOW_FAILED_PRECONDITION);
        }
        int code = exchange(of, request, NULL, NULL, "flow format change",
                            deadline);
        if (code) {
            return code == LMH_OPENFLOW_INTERNAL ? LMH_OPENFLOW_FAILED_PRECONDITION
                                                 : code;
        }
        of->protocol = next;
    }
}

/* Makes 'of''s connection use one of the flow formats 'usable' (those the
 * flow can be encoded in), as open_vconn_for_flow_mod(): the current one if
 * usable, else the first usable one the switch takes. */
static int
choose_protocol(struct lmh_openflow *of, enum ofputil_protocol usable,
                long long int deadline)
{
    if (usable & of->protocol) {
        return LMH_OPENFLOW_OK;
    }
    for (size_t i = 0; i < sizeof(enum ofputil_protocol) * CHAR_BIT; i++) {
        enum ofputil_protocol f = 1u << i;
        int code = (f & usable ? try_set_protocol(of, f, deadline)
                    : LMH_OPENFLOW_FAILED_PRECONDITION);
        if (code != LMH_OPENFLOW_FAILED_PRECONDITION) {
            return code;
        }
    }
    char *usable_s = ofputil_protocols_to_string(usable);
    int code = fail(of, LMH_OPENFLOW_FAILED_PRECONDITION,
                    "%s: the switch supports none of the flow's usable flow "
                    "formats (%s)", of->target, usable_s);
    free(usable_s);
    return code;
}

/* Flow changes. */

static const char *
command_name(enum lmh_openflow_command command)
{
    switch (command) {
    case LMH_OPENFLOW_ADD: return "add-flow";
    case LMH_OPENFLOW_DELETE: return "del-flows";
    case LMH_OPENFLOW_DELETE_STRICT: return "--strict del-flows";
    }
    return "?";
}

static int
ofp_command(enum lmh_openflow_command command)
{
    switch (command) {
    case LMH_OPENFLOW_ADD: return OFPFC_ADD;
    case LMH_OPENFLOW_DELETE: return OFPFC_DELETE;
    case LMH_OPENFLOW_DELETE_STRICT: return OFPFC_DELETE_STRICT;
    }
    OVS_NOT_REACHED();
}

/* Parses 'flow' for 'command' into '*fm' and the flow formats that
 * can carry it into '*usable', with the port names 'of' knows. If that
 * fails, a name may be new (a port added since): the names are fetched
 * anew, connecting if need be, and the flow parsed again; only then is the
 * parser's message the error. */
static int
parse_flow(struct lmh_openflow *of, enum lmh_openflow_command command,
           const char *flow, struct ofputil_flow_mod *fm,
           enum ofputil_protocol *usable, long long int deadline)
{
    char *error = parse_ofp_flow_mod_str(fm, flow,
                                         of->ports_known ? &of->ports : NULL,
                                         NULL, ofp_command(command), usable);
    if (!error) {
        return LMH_OPENFLOW_OK;
    }
    free(error);
    int code = ensure_connected(of, deadline);
    if (!code) {
        code = fetch_ports(of, deadline);
    }
    if (code) {
        return code;
    }
    error = parse_ofp_flow_mod_str(fm, flow, &of->ports, NULL,
                                   ofp_command(command), usable);
    if (!error) {
        return LMH_OPENFLOW_OK;
    }
    code = fail(of, LMH_OPENFLOW_INVALID_ARGUMENT, "%s \"%s\": %s",
                command_name(command), flow, error);
    free(error);
    return code;
}

/* One attempt at lmh_openflow_flow_mod(). */
static int
flow_mod_once(struct lmh_openflow *of, enum lmh_openflow_command command,
              const char *flow, long long int deadline)
{
    struct ofputil_flow_mod fm;
    enum ofputil_protocol usable;

    drain(of);
    int code = parse_flow(of, command, flow, &fm, &usable, deadline);
    if (code) {
        return code;
    }
    if (!usable) {
        code = fail(of, LMH_OPENFLOW_INVALID_ARGUMENT,
                    "no OpenFlow version can express this flow");
    }
    if (!code) {
        code = ensure_connected(of, deadline);
    }
    if (!code) {
        code = choose_protocol(of, usable, deadline);
    }
    if (!code) {
        code = exchange(of, ofputil_encode_flow_mod(&fm, of->protocol), NULL,
                        NULL, command_name(command), deadline);
    }
    free(CONST_CAST(struct ofpact *, fm.ofpacts));
    minimatch_destroy(&fm.match);
    return code;
}

/* The public API. */

struct lmh_openflow *
lmh_openflow_open(const char *target, int timeout_ms)
{
    struct lmh_openflow *of;

    lmh_ovs_library_init();
    of = xzalloc(sizeof *of);
    of->target = xstrdup(target);
    of->timeout_ms = timeout_ms;
    ofputil_port_map_init(&of->ports);
    return of;
}

void
lmh_openflow_close(struct lmh_openflow *of)
{
    if (of) {
        begin_call(of);
        disconnect(of);
        end_call(of, LMH_OPENFLOW_OK);
        ofputil_port_map_destroy(&of->ports);
        free(of->target);
        free(of->error);
        free(of);
    }
}

void
lmh_openflow_set_timeout(struct lmh_openflow *of, int timeout_ms)
{
    of->timeout_ms = timeout_ms;
}

const char *
lmh_openflow_error(const struct lmh_openflow *of)
{
    return of->error ? of->error : "";
}

int
lmh_openflow_flow_mod(struct lmh_openflow *of,
                      enum lmh_openflow_command command, const char *flow)
{
    long long int deadline = time_msec() + of->timeout_ms;

    begin_call(of);
    int code = flow_mod_once(of, command, flow, deadline);
    if (code == CONNECTION_LOST) {
        /* Once more, on a new connection: ovs-vswitchd restarted, or the
         * bridge was re-created. A flow change is idempotent. */
        disconnect(of);
        code = flow_mod_once(of, command, flow, deadline);
    }
    if (code == CONNECTION_LOST || code == LMH_OPENFLOW_DEADLINE_EXCEEDED) {
        /* Replies may still come: the next call starts afresh. */
        disconnect(of);
    }
    return end_call(of, (code == CONNECTION_LOST ? LMH_OPENFLOW_UNAVAILABLE
                         : code));
}
