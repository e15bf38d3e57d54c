/* A plain-C face of Open vSwitch's OpenFlow library for changing the flows
 * of one switch (a bridge's management socket), used by
 * harness/ovs/openflow.cpp. OVS headers are C and not C++-safe, so every
 * one of them stays in openflow_c.c; this header includes none.
 *
 * A handle keeps one OpenFlow connection for its lifetime and does, per
 * call, what one ovs-ofctl add-flow or [--strict] del-flows process does:
 * the same version negotiation (every version OVS supports), the same
 * parser (parse_ofp_flow_mod_str) with port names resolved from the
 * switch's port descriptions, the same choice of flow format
 * (open_vconn_for_flow_mod), and a barrier after the change, so that when
 * the call returns the switch has applied it. Unlike ovs-ofctl, port names
 * are remembered between calls: the switch reports every port added or
 * deleted on the connection (OFPT_PORT_STATUS), which keeps the names
 * current, and a name still unknown is looked up again before a flow
 * naming it is refused.
 *
 * Every call is bounded by the handle's timeout. The connection is made on
 * first use and made again, once per call, when it fails (ovs-vswitchd
 * restarted, the bridge re-created); flow changes are idempotent, so
 * repeating one is safe.
 *
 * Functions return an lmh_openflow_code; on failure lmh_openflow_error()
 * describes it. A handle must not be used by two threads at once. */
#ifndef LMH_HARNESS_OPENFLOW_C_H
#define LMH_HARNESS_OPENFLOW_C_H 1

#ifdef __cplusplus
extern "C" {
#endif

/* What went wrong, by what the caller should do (common/status.h codes). */
enum lmh_openflow_code {
    LMH_OPENFLOW_OK = 0,
    LMH_OPENFLOW_INVALID_ARGUMENT,     /* the flow does not parse (OVS's message) */
    LMH_OPENFLOW_FAILED_PRECONDITION,  /* the switch speaks no flow format the flow needs */
    LMH_OPENFLOW_UNAVAILABLE,          /* no switch listens at the target */
    LMH_OPENFLOW_DEADLINE_EXCEEDED,    /* the switch did not answer within the timeout */
    LMH_OPENFLOW_INTERNAL,             /* the switch refused the change (OFPT_ERROR) */
};

/* The flow changes of ovs-ofctl. */
enum lmh_openflow_command {
    LMH_OPENFLOW_ADD,            /* add-flow: add, or replace the same match */
    LMH_OPENFLOW_DELETE,         /* del-flows: every flow the match covers */
    LMH_OPENFLOW_DELETE_STRICT,  /* --strict del-flows: that match and priority */
};

struct lmh_openflow;

/* Creates a handle for the switch at 'target' (e.g.
 * "unix:/run/x/br-int.mgmt") with 'timeout_ms' per call. Connects lazily.
 * Never NULL. */
struct lmh_openflow *lmh_openflow_open(const char *target, int timeout_ms);
/* Closes the connection and frees 'of' (NULL is fine). */
void lmh_openflow_close(struct lmh_openflow *of);
void lmh_openflow_set_timeout(struct lmh_openflow *of, int timeout_ms);
/* The message of the last failed call on 'of'; "" after a success. */
const char *lmh_openflow_error(const struct lmh_openflow *of);

/* Applies 'command' with 'flow' (ovs-ofctl's flow syntax: a match, and for
 * LMH_OPENFLOW_ADD "actions=..."), returning once the switch confirmed it
 * (its barrier reply). Deleting nothing is success. */
int lmh_openflow_flow_mod(struct lmh_openflow *of,
                          enum lmh_openflow_command command, const char *flow);

#ifdef __cplusplus
}
#endif

#endif /* LMH_HARNESS_OPENFLOW_C_H */
