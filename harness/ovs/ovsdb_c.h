/* A plain-C face of Open vSwitch's OVSDB IDL for one Open_vSwitch database
 * (the vswitch schema), used by harness/ovs/ovsdb_idl.cpp. OVS headers are C and
 * not C++-safe, so every one of them stays in ovsdb_c.c; this header
 * includes none.
 *
 * A handle keeps one IDL connection (a replica of the columns it registers)
 * for its lifetime. Every write is one OVSDB transaction built from fresh
 * replica state, retried when the server says TXN_TRY_AGAIN, and bounded by
 * the handle's timeout: no call blocks longer, whatever the server does.
 * With "wait applied" on, a write also increments Open_vSwitch next_cfg and
 * returns only once ovs-vswitchd has applied it (cur_cfg), as ovs-vsctl does
 * without --no-wait.
 *
 * Functions return an lmh_ovsdb_code; on failure lmh_ovsdb_error() describes
 * it. A handle must not be used by two threads at once. */
#ifndef LMH_HARNESS_OVSDB_C_H
#define LMH_HARNESS_OVSDB_C_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What went wrong, by what the caller should do (common/status.h codes). */
enum lmh_ovsdb_code {
    LMH_OVSDB_OK = 0,
    LMH_OVSDB_INVALID_ARGUMENT,     /* the request is malformed */
    LMH_OVSDB_NOT_FOUND,            /* a named bridge or port does not exist */
    LMH_OVSDB_FAILED_PRECONDITION,  /* state conflicts (port on another bridge) */
    LMH_OVSDB_UNAVAILABLE,          /* ovsdb-server unreachable within the timeout */
    LMH_OVSDB_DEADLINE_EXCEEDED,    /* no commit, or ovs-vswitchd did not apply it, in time */
    LMH_OVSDB_INTERNAL,             /* the server rejected the transaction */
};

struct lmh_ovsdb;

struct lmh_ovsdb_kv {
    const char *key;
    const char *value;
};

/* One port (with its single Interface of the same name) for
 * lmh_ovsdb_add_ports(). */
struct lmh_ovsdb_port_spec {
    const char *bridge;
    const char *name;
    const char *type;                     /* Interface type; NULL: leave as is */
    const struct lmh_ovsdb_kv *options;   /* Interface options keys to set */
    size_t n_options;
    bool set_external_ids;                /* replace Interface external_ids... */
    const struct lmh_ovsdb_kv *external_ids;  /* ...with these */
    size_t n_external_ids;
    int tag;                              /* Port tag; -1: leave as is */
};

typedef void lmh_ovsdb_name_cb(void *aux, const char *name);
typedef void lmh_ovsdb_port_cb(void *aux, const char *name, int tag,
                               const struct lmh_ovsdb_kv *external_ids,
                               size_t n_external_ids);
typedef void lmh_ovsdb_iface_cb(void *aux, const char *name, const char *type,
                                int64_t ofport);

/* Creates a handle for the database at 'remote' (e.g. "unix:/run/x/db.sock")
 * with 'timeout_ms' per call and "wait applied" on. Connects lazily: the
 * first call waits for the server (within the timeout). Never NULL. */
struct lmh_ovsdb *lmh_ovsdb_open(const char *remote, int timeout_ms);
/* Closes the connection and frees 'db' (NULL is fine). */
void lmh_ovsdb_close(struct lmh_ovsdb *db);
void lmh_ovsdb_set_timeout(struct lmh_ovsdb *db, int timeout_ms);
/* Whether writes wait until ovs-vswitchd applied them (ovs-vsctl without
 * --no-wait). Off while ovs-vswitchd is not running yet. */
void lmh_ovsdb_set_wait_applied(struct lmh_ovsdb *db, bool wait);
/* The message of the last failed call on 'db'; "" after a success. */
const char *lmh_ovsdb_error(const struct lmh_ovsdb *db);

/* Writes. Each is one transaction; all are idempotent. */

/* Sets Open_vSwitch other_config 'key' to 'value' (NULL removes the key),
 * creating the Open_vSwitch row if the database is new (ovs-vsctl init). */
int lmh_ovsdb_set_system_other_config(struct lmh_ovsdb *db, const char *key,
                                      const char *value);
/* The same for the Open_vSwitch row's external_ids (ovn-remote, system-id...). */
int lmh_ovsdb_set_system_external_id(struct lmh_ovsdb *db, const char *key,
                                     const char *value);
/* Increments next_cfg and waits until ovs-vswitchd applied it, whatever
 * "wait applied" says: the proof that ovs-vswitchd works. */
int lmh_ovsdb_sync_vswitchd(struct lmh_ovsdb *db);
/* Creates bridge 'name' (with its internal port) of 'datapath_type' unless
 * a bridge of that name exists (ovs-vsctl --may-exist add-br). */
int lmh_ovsdb_ensure_bridge(struct lmh_ovsdb *db, const char *name,
                            const char *datapath_type);
/* Sets bridge 'name''s fail_mode to 'fail_mode' (NULL: leave, "": clear) and
 * the 'n' other_config keys of 'other_config'. NOT_FOUND without the bridge. */
int lmh_ovsdb_configure_bridge(struct lmh_ovsdb *db, const char *name,
                               const char *fail_mode,
                               const struct lmh_ovsdb_kv *other_config,
                               size_t n);
/* Deletes bridge 'name' and its ports; OK when there is none. */
int lmh_ovsdb_delete_bridge(struct lmh_ovsdb *db, const char *name);
/* Adds the 'n' ports of 'specs' in one transaction (ovs-vsctl --may-exist
 * add-port, then sets what each spec says). NOT_FOUND when a bridge does
 * not exist, FAILED_PRECONDITION when a port is on another bridge. */
int lmh_ovsdb_add_ports(struct lmh_ovsdb *db,
                        const struct lmh_ovsdb_port_spec *specs, size_t n);
/* Removes port 'name' from whichever bridge holds it; OK when none does. */
int lmh_ovsdb_delete_port(struct lmh_ovsdb *db, const char *name);
/* Sets port 'name''s tag to 'tag' and clears vlan_mode and trunks.
 * NOT_FOUND when there is no such port. */
int lmh_ovsdb_set_tag(struct lmh_ovsdb *db, const char *name, int tag);

/* Reads, from the replica once it is connected. */

int lmh_ovsdb_bridge_exists(struct lmh_ovsdb *db, const char *name,
                            bool *exists);
/* Calls 'cb' with each bridge's name, in no particular order. */
int lmh_ovsdb_list_bridges(struct lmh_ovsdb *db, lmh_ovsdb_name_cb *cb,
                           void *aux);
/* Calls 'cb' once with the bridge holding port 'name', if any. */
int lmh_ovsdb_port_bridge(struct lmh_ovsdb *db, const char *name,
                          lmh_ovsdb_name_cb *cb, void *aux);
/* Calls 'cb' for each port of 'bridge' except the bridge's own internal
 * port, as ovs-vsctl list-ports (tag -1: none; the external_ids of its
 * interface of the same name). NOT_FOUND without the bridge. */
int lmh_ovsdb_list_ports(struct lmh_ovsdb *db, const char *bridge,
                         lmh_ovsdb_port_cb *cb, void *aux);
/* Calls 'cb' for every Interface (ofport -1: not attached or failed). */
int lmh_ovsdb_list_interfaces(struct lmh_ovsdb *db, lmh_ovsdb_iface_cb *cb,
                              void *aux);

#ifdef __cplusplus
}
#endif

#endif /* LMH_HARNESS_OVSDB_C_H */
