/* A plain-C face of Open vSwitch's OVSDB IDL over OVN's central databases,
 * used by harness/ovs/ovn_northbound_idl.cpp: what neutron's OVN mechanism
 * driver writes in the northbound database and watches in both. The IDL
 * classes (nbrec_*, sbrec_*) are generated at build time from the installed
 * OVN schemas (cmake/ovn_idl.cmake). OVS headers are C and not C++-safe, so
 * every one of them stays in ovn_idl_c.c; this header includes none.
 *
 * A handle keeps two IDL connections, northbound and southbound, each a
 * replica of the columns it registers. Every write is one northbound
 * transaction built from fresh replica state, retried when the server says
 * TXN_TRY_AGAIN, and bounded by the handle's timeout: no call blocks longer,
 * whatever the servers do. lmh_ovn_run() never blocks.
 *
 * Functions return an lmh_ovn_code; on failure lmh_ovn_error() describes it.
 * A handle must not be used by two threads at once. */
#ifndef LMH_HARNESS_OVN_IDL_C_H
#define LMH_HARNESS_OVN_IDL_C_H 1

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What went wrong, by what the caller should do (common/status.h codes). */
enum lmh_ovn_code {
    LMH_OVN_OK = 0,
    LMH_OVN_INVALID_ARGUMENT,   /* the request is malformed */
    LMH_OVN_NOT_FOUND,          /* a named switch or port does not exist */
    LMH_OVN_ALREADY_EXISTS,     /* a port of that name exists */
    LMH_OVN_UNAVAILABLE,        /* a database unreachable within the timeout */
    LMH_OVN_DEADLINE_EXCEEDED,  /* no reply to a commit within the timeout */
    LMH_OVN_INTERNAL,           /* the server rejected the transaction */
};

struct lmh_ovn;

struct lmh_ovn_kv {
    const char *key;
    const char *value;
};

/* A logical switch and, unless 'localnet_port' is NULL or "", its localnet
 * port (type=localnet, addresses=unknown, options:network_name='physnet',
 * tag_request='tag' when 'tag' > 0). */
struct lmh_ovn_switch_spec {
    const char *name;
    const char *localnet_port;
    const char *physnet;
    int tag;
};

/* A VIF port: addresses and port_security "'mac' 'ip'", and 'options'. */
struct lmh_ovn_port_spec {
    const char *name;
    const char *logical_switch;
    const char *mac;
    const char *ip;
    const struct lmh_ovn_kv *options;
    size_t n_options;
};

/* What neutron's monitors see of one port (core::OvnPortState). Chassis are
 * by name; "" for none. Valid during the callback only. */
struct lmh_ovn_port_state {
    const char *name;
    bool up;                          /* NB Logical_Switch_Port up */
    const char *chassis;              /* SB Port_Binding chassis */
    const char *const *additional_chassis;  /* SB additional_chassis, sorted */
    size_t n_additional_chassis;
    const char *activated;            /* options:additional-chassis-activated */
};

typedef void lmh_ovn_port_state_cb(void *aux,
                                   const struct lmh_ovn_port_state *state);

/* Creates a handle for the northbound database at 'nb_remote' and the
 * southbound at 'sb_remote' (e.g. "unix:/run/x/ovnnb_db.sock"), with
 * 'timeout_ms' per call. Connects lazily; lmh_ovn_wait_connected() waits.
 * Never NULL. */
struct lmh_ovn *lmh_ovn_open(const char *nb_remote, const char *sb_remote,
                             int timeout_ms);
/* Closes both connections and frees 'ovn' (NULL is fine). */
void lmh_ovn_close(struct lmh_ovn *ovn);
/* The message of the last failed call on 'ovn'; "" after a success. */
const char *lmh_ovn_error(const struct lmh_ovn *ovn);

/* Waits, within the timeout, until both replicas are connected and hold
 * their database's contents, then takes the port states that later
 * lmh_ovn_run() calls report changes against. UNAVAILABLE otherwise. */
int lmh_ovn_wait_connected(struct lmh_ovn *ovn);

/* Writes: each is one northbound transaction. */

/* Creates switch 'spec' with its localnet port unless a switch of that name
 * exists (then nothing changes: OK). */
int lmh_ovn_ensure_logical_switch(struct lmh_ovn *ovn,
                                  const struct lmh_ovn_switch_spec *spec);
/* Creates port 'spec' on its switch. NOT_FOUND without the switch,
 * ALREADY_EXISTS when a port of that name exists (on any switch). */
int lmh_ovn_create_port(struct lmh_ovn *ovn,
                        const struct lmh_ovn_port_spec *spec);
/* Replaces the whole options map of port 'name' with the 'n' entries of
 * 'options'. NOT_FOUND without the port. */
int lmh_ovn_set_port_options(struct lmh_ovn *ovn, const char *name,
                             const struct lmh_ovn_kv *options, size_t n);
/* Deletes port 'name' and removes it from its switch; OK when none. */
int lmh_ovn_delete_port(struct lmh_ovn *ovn, const char *name);

/* Processes what both databases have sent so far, without waiting, and
 * calls 'cb' once for each northbound Logical_Switch_Port whose state
 * changed since the last call (or since lmh_ovn_wait_connected()), with
 * its latest state. Order: the northbound's changes before the
 * southbound's, each in port-name order. A deleted port is reported once
 * with the empty state, if its last reported state was not empty. */
int lmh_ovn_run(struct lmh_ovn *ovn, lmh_ovn_port_state_cb *cb, void *aux);

#ifdef __cplusplus
}
#endif

#endif /* LMH_HARNESS_OVN_IDL_C_H */
