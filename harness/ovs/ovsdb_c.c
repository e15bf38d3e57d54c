/* The Open_vSwitch database through Open vSwitch's own OVSDB IDL, following
 * utilities/ovs-vsctl.c: run the IDL until the replica is current, build one
 * transaction from it (verifying the columns the decision read), commit,
 * and handle every result, rebuilding from fresh state on TXN_TRY_AGAIN.
 * Unlike ovs-vsctl, which relies on SIGALRM (--timeout) to end a hang, every
 * wait here is bounded by the handle's deadline. See ovsdb_c.h. */
#include <config.h>

#include "harness/ovs/ovsdb_c.h"

#include "harness/ovs/ovs_c_common.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "ovsdb-idl.h"
#include "smap.h"
#include "timeval.h"
#include "util.h"
#include "vswitch-idl.h"

struct lmh_ovsdb {
    struct ovsdb_idl *idl;
    char *remote;
    int timeout_ms;
    bool wait_applied;
    char *error;                /* of the last failed call, NULL after success */
    bool ovs_row_is_new;        /* the transaction being built creates Open_vSwitch */
    struct lmh_ovs_sigpipe_guard sigpipe;  /* while a call runs */
};

/* The columns the handle reads or writes; nothing else is replicated. */
static const struct ovsdb_idl_column *const replicated_columns[] = {
    &ovsrec_open_vswitch_col_bridges,
    &ovsrec_open_vswitch_col_other_config,
    &ovsrec_open_vswitch_col_external_ids,
    &ovsrec_open_vswitch_col_next_cfg,
    &ovsrec_open_vswitch_col_cur_cfg,
    &ovsrec_bridge_col_name,
    &ovsrec_bridge_col_ports,
    &ovsrec_bridge_col_datapath_type,
    &ovsrec_bridge_col_fail_mode,
    &ovsrec_bridge_col_other_config,
    &ovsrec_port_col_name,
    &ovsrec_port_col_interfaces,
    &ovsrec_port_col_tag,
    &ovsrec_port_col_vlan_mode,
    &ovsrec_port_col_trunks,
    &ovsrec_interface_col_name,
    &ovsrec_interface_col_type,
    &ovsrec_interface_col_options,
    &ovsrec_interface_col_external_ids,
    &ovsrec_interface_col_ofport,
};

/* Starts a public call on 'db': clears the last error, blocks SIGPIPE. */
static void
begin_call(struct lmh_ovsdb *db)
{
    free(db->error);
    db->error = NULL;
    lmh_ovs_block_sigpipe(&db->sigpipe);
}

/* Ends a public call on 'db' with result 'code', which it returns. */
static int
end_call(struct lmh_ovsdb *db, int code)
{
    lmh_ovs_unblock_sigpipe(&db->sigpipe);
    return code;
}

/* Records the message 'format' as 'db''s error and returns 'code'. */
static int OVS_PRINTF_FORMAT(3, 4)
fail(struct lmh_ovsdb *db, int code, const char *format, ...)
{
    va_list args;

    va_start(args, format);
    free(db->error);
    db->error = xvasprintf(format, args);
    va_end(args);
    return code;
}

/* Sleeps in poll_block() until the IDL has something or 'deadline' (a
 * time_msec() value) passes. */
static void
wait_idl(struct lmh_ovsdb *db, long long int deadline)
{
    ovsdb_idl_wait(db->idl);
    poll_timer_wait_until(deadline);
    poll_block();
}

/* Runs the IDL until it is connected and holds the database's contents, at
 * most until 'deadline'. Returns LMH_OVSDB_OK or LMH_OVSDB_UNAVAILABLE. */
static int
wait_connected(struct lmh_ovsdb *db, long long int deadline)
{
    for (;;) {
        ovsdb_idl_run(db->idl);
        if (!ovsdb_idl_is_alive(db->idl)) {
            return fail(db, LMH_OVSDB_UNAVAILABLE, "%s: connection failed (%s)",
                        db->remote,
                        ovs_retval_to_string(ovsdb_idl_get_last_error(db->idl)));
        }
        if (ovsdb_idl_is_connected(db->idl)
            && ovsdb_idl_has_ever_connected(db->idl)) {
            return LMH_OVSDB_OK;
        }
        if (time_msec() >= deadline) {
            int error = ovsdb_idl_get_last_error(db->idl);
            return fail(db, LMH_OVSDB_UNAVAILABLE,
                        "no connection to ovsdb-server at %s within %d ms%s%s%s",
                        db->remote, db->timeout_ms, error ? " (" : "",
                        error ? ovs_retval_to_string(error) : "",
                        error ? ")" : "");
        }
        wait_idl(db, deadline);
    }
}

/* Runs the IDL until its contents change from 'seqno' (new data after a
 * TXN_TRY_AGAIN), at most until 'deadline'. */
static int
wait_for_change(struct lmh_ovsdb *db, unsigned int seqno,
                long long int deadline, const char *what)
{
    for (;;) {
        ovsdb_idl_run(db->idl);
        if (ovsdb_idl_get_seqno(db->idl) != seqno) {
            return LMH_OVSDB_OK;
        }
        if (time_msec() >= deadline) {
            return fail(db, LMH_OVSDB_UNAVAILABLE,
                        "%s: ovsdb-server at %s asked to try again, and no fresh "
                        "data came within %d ms", what, db->remote,
                        db->timeout_ms);
        }
        wait_idl(db, deadline);
    }
}

/* ovsdb_idl_txn_commit_block() with a deadline: commits 'txn' and runs the
 * IDL until the server replied or 'deadline' passed (then TXN_INCOMPLETE). */
static enum ovsdb_idl_txn_status
commit_until(struct lmh_ovsdb *db, struct ovsdb_idl_txn *txn,
             long long int deadline)
{
    enum ovsdb_idl_txn_status status;

    while ((status = ovsdb_idl_txn_commit(txn)) == TXN_INCOMPLETE
           && time_msec() < deadline) {
        ovsdb_idl_run(db->idl);
        ovsdb_idl_wait(db->idl);
        ovsdb_idl_txn_wait(txn);
        poll_timer_wait_until(deadline);
        poll_block();
    }
    return status;
}

/* Waits until ovs-vswitchd reports (cur_cfg) that it applied configuration
 * 'next_cfg', at most until 'deadline'. */
static int
wait_applied(struct lmh_ovsdb *db, int64_t next_cfg, long long int deadline,
             const char *what)
{
    for (;;) {
        const struct ovsrec_open_vswitch *ovs;

        ovsdb_idl_run(db->idl);
        ovs = ovsrec_open_vswitch_first(db->idl);
        if (ovs && ovs->cur_cfg >= next_cfg) {
            return LMH_OVSDB_OK;
        }
        if (time_msec() >= deadline) {
            return fail(db, LMH_OVSDB_DEADLINE_EXCEEDED,
                        "%s: committed, but ovs-vswitchd did not apply it "
                        "within %d ms (cur_cfg %"PRId64", waiting for %"PRId64
                        "); is ovs-vswitchd running?", what, db->timeout_ms,
                        ovs ? ovs->cur_cfg : 0, next_cfg);
        }
        wait_idl(db, deadline);
    }
}

/* Adds the changes of one request to 'txn', reading the replica; returns
 * LMH_OVSDB_OK or why the request cannot be made (then nothing commits).
 * 'ovs' is the Open_vSwitch row ('db->ovs_row_is_new' when this transaction
 * inserts it). */
typedef int txn_builder(struct lmh_ovsdb *db, struct ovsdb_idl_txn *txn,
                        const struct ovsrec_open_vswitch *ovs,
                        const void *request);

/* Runs one write: 'build' adds 'request''s changes to a fresh transaction,
 * which commits; TXN_TRY_AGAIN rebuilds it from new data. With
 * 'wait_for_vswitchd', also increments next_cfg ('force': even when nothing
 * else changed) and waits for ovs-vswitchd to apply it. 'what' names the
 * request in the transaction's comment and in errors. All of it happens
 * before 'db''s timeout. */
static int
transact(struct lmh_ovsdb *db, const char *what, txn_builder *build,
         const void *request, bool wait_for_vswitchd, bool force)
{
    long long int deadline = time_msec() + db->timeout_ms;

    for (;;) {
        const struct ovsrec_open_vswitch *ovs;
        struct ovsdb_idl_txn *txn;
        unsigned int seqno;
        int code;

        code = wait_connected(db, deadline);
        if (code != LMH_OVSDB_OK) {
            return code;
        }
        seqno = ovsdb_idl_get_seqno(db->idl);
        txn = ovsdb_idl_txn_create(db->idl);
        ovsdb_idl_txn_add_comment(txn, "lmh: %s", what);
        ovs = ovsrec_open_vswitch_first(db->idl);
        db->ovs_row_is_new = !ovs;
        if (!ovs) {
            ovs = ovsrec_open_vswitch_insert(txn);
        }
        if (wait_for_vswitchd) {
            ovsdb_idl_txn_increment(txn, &ovs->header_,
                                    &ovsrec_open_vswitch_col_next_cfg, force);
        }
        code = build(db, txn, ovs, request);
        if (code != LMH_OVSDB_OK) {
            ovsdb_idl_txn_destroy(txn);
            return code;
        }

        enum ovsdb_idl_txn_status status = commit_until(db, txn, deadline);
        int64_t next_cfg = 0;
        switch (status) {
        case TXN_SUCCESS:
            if (wait_for_vswitchd) {
                next_cfg = ovsdb_idl_txn_get_increment_new_value(txn);
            }
            ovsdb_idl_txn_destroy(txn);
            return (wait_for_vswitchd
                    ? wait_applied(db, next_cfg, deadline, what)
                    : LMH_OVSDB_OK);

        case TXN_UNCHANGED:
            /* Nothing to do, so nothing for ovs-vswitchd to apply either. */
            ovsdb_idl_txn_destroy(txn);
            return LMH_OVSDB_OK;

        case TXN_TRY_AGAIN:
            /* A verified column changed, or the connection is being
             * re-established: rebuild from the data that comes next. */
            ovsdb_idl_txn_destroy(txn);
            code = wait_for_change(db, seqno, deadline, what);
            if (code != LMH_OVSDB_OK) {
                return code;
            }
            continue;

        case TXN_INCOMPLETE:
            /* The deadline passed before the reply; destroying the
             * transaction makes the IDL forget it. */
            ovsdb_idl_txn_destroy(txn);
            return fail(db, LMH_OVSDB_DEADLINE_EXCEEDED,
                        "%s: no reply from ovsdb-server at %s within %d ms",
                        what, db->remote, db->timeout_ms);

        case TXN_ERROR:
            code = fail(db, LMH_OVSDB_INTERNAL, "%s: transaction error: %s",
                        what, ovsdb_idl_txn_get_error(txn));
            ovsdb_idl_txn_destroy(txn);
            return code;

        case TXN_ABORTED:       /* We never call ovsdb_idl_txn_abort(). */
        case TXN_NOT_LOCKED:    /* We never call ovsdb_idl_set_lock(). */
        case TXN_UNCOMMITTED:   /* Commit returns no such thing. */
        default:
            code = fail(db, LMH_OVSDB_INTERNAL,
                        "%s: unexpected transaction status %s", what,
                        ovsdb_idl_txn_status_to_string(status));
            ovsdb_idl_txn_destroy(txn);
            return code;
        }
    }
}

/* Replica lookups. */

static const struct ovsrec_bridge *
find_bridge(const struct ovsdb_idl *idl, const char *name)
{
    const struct ovsrec_bridge *br;

    OVSREC_BRIDGE_FOR_EACH (br, idl) {
        if (!strcmp(br->name, name)) {
            return br;
        }
    }
    return NULL;
}

/* Returns the port named 'name' and stores the bridge holding it in
 * '*bridgep'; NULL when no bridge has such a port. */
static const struct ovsrec_port *
find_port(const struct ovsdb_idl *idl, const char *name,
          const struct ovsrec_bridge **bridgep)
{
    const struct ovsrec_bridge *br;

    OVSREC_BRIDGE_FOR_EACH (br, idl) {
        for (size_t i = 0; i < br->n_ports; i++) {
            if (!strcmp(br->ports[i]->name, name)) {
                *bridgep = br;
                return br->ports[i];
            }
        }
    }
    *bridgep = NULL;
    return NULL;
}

/* The interface of 'port' with the port's name (os-vif and libvirt make one
 * such per port), else its first, else NULL. */
static const struct ovsrec_interface *
port_interface(const struct ovsrec_port *port)
{
    for (size_t i = 0; i < port->n_interfaces; i++) {
        if (!strcmp(port->interfaces[i]->name, port->name)) {
            return port->interfaces[i];
        }
    }
    return port->n_interfaces ? port->interfaces[0] : NULL;
}

/* Makes the transaction fail with TXN_TRY_AGAIN if which bridges exist or
 * which ports they hold changed since the replica was read: a decision made
 * from them ("the port is on no bridge") must still hold at commit. */
static void
verify_topology(const struct lmh_ovsdb *db,
                const struct ovsrec_open_vswitch *ovs)
{
    const struct ovsrec_bridge *br;

    ovsrec_open_vswitch_verify_bridges(ovs);
    OVSREC_BRIDGE_FOR_EACH (br, db->idl) {
        ovsrec_bridge_verify_ports(br);
    }
}

static void
fill_smap(struct smap *map, const struct lmh_ovsdb_kv *kvs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        smap_replace(map, kvs[i].key, kvs[i].value);
    }
}

static void
delete_port_rows(const struct ovsrec_port *port)
{
    for (size_t i = 0; i < port->n_interfaces; i++) {
        ovsrec_interface_delete(port->interfaces[i]);
    }
    ovsrec_port_delete(port);
}

/* The requests. */

struct other_config_request {
    const char *key;
    const char *value;
    bool external_ids;  /* the row's external_ids instead of other_config */
};

static int
build_set_system_other_config(struct lmh_ovsdb *db, struct ovsdb_idl_txn *txn,
                              const struct ovsrec_open_vswitch *ovs,
                              const void *request_)
{
    const struct other_config_request *request = request_;

    if (db->ovs_row_is_new) {
        struct smap map = SMAP_INITIALIZER(&map);
        if (request->value) {
            smap_add(&map, request->key, request->value);
        }
        if (request->external_ids) {
            ovsrec_open_vswitch_set_external_ids(ovs, &map);
        } else {
            ovsrec_open_vswitch_set_other_config(ovs, &map);
        }
        smap_destroy(&map);
    } else if (request->external_ids) {
        if (request->value) {
            ovsrec_open_vswitch_update_external_ids_setkey(ovs, request->key,
                                                           request->value);
        } else {
            ovsrec_open_vswitch_update_external_ids_delkey(ovs, request->key);
        }
    } else if (request->value) {
        ovsrec_open_vswitch_update_other_config_setkey(ovs, request->key,
                                                       request->value);
    } else {
        ovsrec_open_vswitch_update_other_config_delkey(ovs, request->key);
    }
    return LMH_OVSDB_OK;
}

static int
build_nothing(struct lmh_ovsdb *db, struct ovsdb_idl_txn *txn,
              const struct ovsrec_open_vswitch *ovs, const void *request)
{
    return LMH_OVSDB_OK;
}

struct bridge_request {
    const char *name;
    const char *datapath_type;
    const char *fail_mode;
    const struct lmh_ovsdb_kv *other_config;
    size_t n_other_config;
};

/* ovs-vsctl add-br: the bridge, and its internal port of the same name. */
static int
build_ensure_bridge(struct lmh_ovsdb *db, struct ovsdb_idl_txn *txn,
                    const struct ovsrec_open_vswitch *ovs,
                    const void *request_)
{
    const struct bridge_request *request = request_;
    struct ovsrec_interface *iface;
    struct ovsrec_port *port;
    struct ovsrec_bridge *br;

    if (find_bridge(db->idl, request->name)) {
        return LMH_OVSDB_OK;
    }
    ovsrec_open_vswitch_verify_bridges(ovs);

    iface = ovsrec_interface_insert(txn);
    ovsrec_interface_set_name(iface, request->name);
    ovsrec_interface_set_type(iface, "internal");

    port = ovsrec_port_insert(txn);
    ovsrec_port_set_name(port, request->name);
    ovsrec_port_set_interfaces(port, &iface, 1);

    br = ovsrec_bridge_insert(txn);
    ovsrec_bridge_set_name(br, request->name);
    ovsrec_bridge_set_ports(br, &port, 1);
    if (request->datapath_type && request->datapath_type[0]) {
        ovsrec_bridge_set_datapath_type(br, request->datapath_type);
    }

    /* The whole set, not a partial update: the Open_vSwitch row may be new
     * in this very transaction. */
    struct ovsrec_bridge **bridges = xmalloc((ovs->n_bridges + 1)
                                             * sizeof *bridges);
    for (size_t i = 0; i < ovs->n_bridges; i++) {
        bridges[i] = ovs->bridges[i];
    }
    bridges[ovs->n_bridges] = br;
    ovsrec_open_vswitch_set_bridges(ovs, bridges, ovs->n_bridges + 1);
    free(bridges);
    return LMH_OVSDB_OK;
}

static int
build_configure_bridge(struct lmh_ovsdb *db, struct ovsdb_idl_txn *txn,
                       const struct ovsrec_open_vswitch *ovs,
                       const void *request_)
{
    const struct bridge_request *request = request_;
    const struct ovsrec_bridge *br = find_bridge(db->idl, request->name);

    if (!br) {
        return fail(db, LMH_OVSDB_NOT_FOUND, "bridge %s does not exist",
                    request->name);
    }
    if (request->fail_mode) {
        ovsrec_bridge_set_fail_mode(br, (request->fail_mode[0]
                                         ? request->fail_mode : NULL));
    }
    for (size_t i = 0; i < request->n_other_config; i++) {
        ovsrec_bridge_update_other_config_setkey(
            br, request->other_config[i].key, request->other_config[i].value);
    }
    return LMH_OVSDB_OK;
}

static int
build_delete_bridge(struct lmh_ovsdb *db, struct ovsdb_idl_txn *txn,
                    const struct ovsrec_open_vswitch *ovs,
                    const void *request_)
{
    const struct bridge_request *request = request_;
    const struct ovsrec_bridge *br = find_bridge(db->idl, request->name);

    if (!br) {
        return LMH_OVSDB_OK;
    }
    ovsrec_open_vswitch_update_bridges_delvalue(ovs, br);
    for (size_t i = 0; i < br->n_ports; i++) {
        delete_port_rows(br->ports[i]);
    }
    ovsrec_bridge_delete(br);
    return LMH_OVSDB_OK;
}

struct ports_request {
    const struct lmh_ovsdb_port_spec *specs;
    size_t n;
};

/* ovs-vsctl --may-exist add-port, then "set" of what each spec asks for. */
static int
build_add_ports(struct lmh_ovsdb *db, struct ovsdb_idl_txn *txn,
                const struct ovsrec_open_vswitch *ovs, const void *request_)
{
    const struct ports_request *request = request_;

    verify_topology(db, ovs);
    for (size_t i = 0; i < request->n; i++) {
        const struct lmh_ovsdb_port_spec *spec = &request->specs[i];
        const struct ovsrec_bridge *br = find_bridge(db->idl, spec->bridge);
        const struct ovsrec_bridge *owner;
        const struct ovsrec_port *port = find_port(db->idl, spec->name, &owner);
        const struct ovsrec_interface *iface;
        bool is_new = !port;

        if (!br) {
            return fail(db, LMH_OVSDB_NOT_FOUND, "cannot add port %s: bridge %s "
                        "does not exist", spec->name, spec->bridge);
        }
        if (port && owner != br) {
            return fail(db, LMH_OVSDB_FAILED_PRECONDITION,
                        "cannot add port %s to bridge %s: it is on bridge %s",
                        spec->name, spec->bridge, owner->name);
        }
        if (spec->tag < -1 || spec->tag > 4095) {
            return fail(db, LMH_OVSDB_INVALID_ARGUMENT,
                        "port %s: tag %d is not a VLAN id", spec->name, spec->tag);
        }
        if (is_new) {
            struct ovsrec_interface *new_iface = ovsrec_interface_insert(txn);
            struct ovsrec_port *new_port = ovsrec_port_insert(txn);

            ovsrec_interface_set_name(new_iface, spec->name);
            ovsrec_port_set_name(new_port, spec->name);
            ovsrec_port_set_interfaces(new_port, &new_iface, 1);
            ovsrec_bridge_update_ports_addvalue(br, new_port);
            iface = new_iface;
            port = new_port;
        } else {
            iface = port_interface(port);
            if (!iface) {
                return fail(db, LMH_OVSDB_INTERNAL, "port %s has no interface",
                            spec->name);
            }
        }
        if (spec->type) {
            ovsrec_interface_set_type(iface, spec->type);
        }
        if (spec->n_options) {
            /* Partial map updates apply to existing rows only. */
            if (is_new) {
                struct smap options = SMAP_INITIALIZER(&options);
                fill_smap(&options, spec->options, spec->n_options);
                ovsrec_interface_set_options(iface, &options);
                smap_destroy(&options);
            } else {
                for (size_t j = 0; j < spec->n_options; j++) {
                    ovsrec_interface_update_options_setkey(
                        iface, spec->options[j].key, spec->options[j].value);
                }
            }
        }
        if (spec->set_external_ids) {
            struct smap ids = SMAP_INITIALIZER(&ids);
            fill_smap(&ids, spec->external_ids, spec->n_external_ids);
            ovsrec_interface_set_external_ids(iface, &ids);
            smap_destroy(&ids);
        }
        if (spec->tag >= 0) {
            int64_t tag = spec->tag;
            ovsrec_port_set_tag(port, &tag, 1);
        }
    }
    return LMH_OVSDB_OK;
}

struct port_request {
    const char *name;
    int tag;
};

static int
build_delete_port(struct lmh_ovsdb *db, struct ovsdb_idl_txn *txn,
                  const struct ovsrec_open_vswitch *ovs, const void *request_)
{
    const struct port_request *request = request_;
    const struct ovsrec_bridge *br;
    const struct ovsrec_port *port = find_port(db->idl, request->name, &br);

    if (!port) {
        return LMH_OVSDB_OK;
    }
    ovsrec_bridge_update_ports_delvalue(br, port);
    delete_port_rows(port);
    return LMH_OVSDB_OK;
}

static int
build_set_tag(struct lmh_ovsdb *db, struct ovsdb_idl_txn *txn,
              const struct ovsrec_open_vswitch *ovs, const void *request_)
{
    const struct port_request *request = request_;
    const struct ovsrec_bridge *br;
    const struct ovsrec_port *port = find_port(db->idl, request->name, &br);
    int64_t tag = request->tag;

    if (!port) {
        return fail(db, LMH_OVSDB_NOT_FOUND, "port %s does not exist",
                    request->name);
    }
    ovsrec_port_set_tag(port, &tag, 1);
    ovsrec_port_set_vlan_mode(port, NULL);
    ovsrec_port_set_trunks(port, NULL, 0);
    return LMH_OVSDB_OK;
}

/* The public API. */

struct lmh_ovsdb *
lmh_ovsdb_open(const char *remote, int timeout_ms)
{
    struct lmh_ovsdb *db;

    lmh_ovs_library_init();
    db = xzalloc(sizeof *db);
    db->remote = xstrdup(remote);
    db->timeout_ms = timeout_ms;
    db->wait_applied = true;
    /* Monitor only what we use; retry (reconnect) when the connection drops. */
    db->idl = ovsdb_idl_create(remote, &ovsrec_idl_class, false, true);
    for (size_t i = 0; i < ARRAY_SIZE(replicated_columns); i++) {
        ovsdb_idl_add_column(db->idl, replicated_columns[i]);
    }
    return db;
}

void
lmh_ovsdb_close(struct lmh_ovsdb *db)
{
    if (db) {
        begin_call(db);
        ovsdb_idl_destroy(db->idl);
        end_call(db, LMH_OVSDB_OK);
        free(db->remote);
        free(db->error);
        free(db);
    }
}

void
lmh_ovsdb_set_timeout(struct lmh_ovsdb *db, int timeout_ms)
{
    db->timeout_ms = timeout_ms;
}

void
lmh_ovsdb_set_wait_applied(struct lmh_ovsdb *db, bool wait)
{
    db->wait_applied = wait;
}

const char *
lmh_ovsdb_error(const struct lmh_ovsdb *db)
{
    return db->error ? db->error : "";
}

/* Runs write 'build' for 'request' as one public call; 'what' is freed. */
static int
write_call(struct lmh_ovsdb *db, char *what, txn_builder *build,
           const void *request)
{
    begin_call(db);
    int code = transact(db, what, build, request, db->wait_applied, false);
    free(what);
    return end_call(db, code);
}

int
lmh_ovsdb_set_system_other_config(struct lmh_ovsdb *db, const char *key,
                                  const char *value)
{
    struct other_config_request request = { key, value, false };
    return write_call(db, xasprintf("set Open_vSwitch other_config:%s=%s", key,
                                    value ? value : "(removed)"),
                      build_set_system_other_config, &request);
}

int
lmh_ovsdb_set_system_external_id(struct lmh_ovsdb *db, const char *key,
                                 const char *value)
{
    struct other_config_request request = { key, value, true };
    return write_call(db, xasprintf("set Open_vSwitch external_ids:%s=%s", key,
                                    value ? value : "(removed)"),
                      build_set_system_other_config, &request);
}

int
lmh_ovsdb_sync_vswitchd(struct lmh_ovsdb *db)
{
    begin_call(db);
    int code = transact(db, "wait for ovs-vswitchd", build_nothing, NULL,
                        true, true);
    return end_call(db, code);
}

int
lmh_ovsdb_ensure_bridge(struct lmh_ovsdb *db, const char *name,
                        const char *datapath_type)
{
    struct bridge_request request = { .name = name,
                                      .datapath_type = datapath_type };
    return write_call(db, xasprintf("--may-exist add-br %s", name),
                      build_ensure_bridge, &request);
}

int
lmh_ovsdb_configure_bridge(struct lmh_ovsdb *db, const char *name,
                           const char *fail_mode,
                           const struct lmh_ovsdb_kv *other_config, size_t n)
{
    struct bridge_request request = { .name = name, .fail_mode = fail_mode,
                                      .other_config = other_config,
                                      .n_other_config = n };
    return write_call(db, xasprintf("set bridge %s", name),
                      build_configure_bridge, &request);
}

int
lmh_ovsdb_delete_bridge(struct lmh_ovsdb *db, const char *name)
{
    struct bridge_request request = { .name = name };
    return write_call(db, xasprintf("--if-exists del-br %s", name),
                      build_delete_bridge, &request);
}

int
lmh_ovsdb_add_ports(struct lmh_ovsdb *db,
                    const struct lmh_ovsdb_port_spec *specs, size_t n)
{
    struct ports_request request = { specs, n };
    struct ds what = DS_EMPTY_INITIALIZER;

    ds_put_cstr(&what, "--may-exist add-port");
    for (size_t i = 0; i < n; i++) {
        ds_put_format(&what, " %s %s", specs[i].bridge, specs[i].name);
    }
    return write_call(db, ds_steal_cstr(&what), build_add_ports, &request);
}

int
lmh_ovsdb_delete_port(struct lmh_ovsdb *db, const char *name)
{
    struct port_request request = { name, -1 };
    return write_call(db, xasprintf("--if-exists del-port %s", name),
                      build_delete_port, &request);
}

int
lmh_ovsdb_set_tag(struct lmh_ovsdb *db, const char *name, int tag)
{
    struct port_request request = { name, tag };

    if (tag < 0 || tag > 4095) {
        begin_call(db);
        return end_call(db, fail(db, LMH_OVSDB_INVALID_ARGUMENT,
                                 "port %s: tag %d is not a VLAN id", name, tag));
    }
    return write_call(db, xasprintf("set port %s tag=%d", name, tag),
                      build_set_tag, &request);
}

/* Starts a read: a public call with the replica connected and current. */
static int
begin_read(struct lmh_ovsdb *db)
{
    begin_call(db);
    return wait_connected(db, time_msec() + db->timeout_ms);
}

int
lmh_ovsdb_bridge_exists(struct lmh_ovsdb *db, const char *name, bool *exists)
{
    int code = begin_read(db);
    *exists = code == LMH_OVSDB_OK && find_bridge(db->idl, name) != NULL;
    return end_call(db, code);
}

int
lmh_ovsdb_list_bridges(struct lmh_ovsdb *db, lmh_ovsdb_name_cb *cb, void *aux)
{
    int code = begin_read(db);
    if (code == LMH_OVSDB_OK) {
        const struct ovsrec_bridge *br;
        OVSREC_BRIDGE_FOR_EACH (br, db->idl) {
            cb(aux, br->name);
        }
    }
    return end_call(db, code);
}

int
lmh_ovsdb_port_bridge(struct lmh_ovsdb *db, const char *name,
                      lmh_ovsdb_name_cb *cb, void *aux)
{
    int code = begin_read(db);
    if (code == LMH_OVSDB_OK) {
        const struct ovsrec_bridge *br;
        if (find_port(db->idl, name, &br)) {
            cb(aux, br->name);
        }
    }
    return end_call(db, code);
}

int
lmh_ovsdb_list_ports(struct lmh_ovsdb *db, const char *bridge,
                     lmh_ovsdb_port_cb *cb, void *aux)
{
    int code = begin_read(db);
    if (code != LMH_OVSDB_OK) {
        return end_call(db, code);
    }
    const struct ovsrec_bridge *br = find_bridge(db->idl, bridge);
    if (!br) {
        return end_call(db, fail(db, LMH_OVSDB_NOT_FOUND,
                                 "bridge %s does not exist", bridge));
    }
    for (size_t i = 0; i < br->n_ports; i++) {
        const struct ovsrec_port *port = br->ports[i];
        if (!strcmp(port->name, br->name)) {
            continue;           /* The bridge's own port, as list-ports. */
        }
        const struct ovsrec_interface *iface = port_interface(port);
        size_t n = iface ? smap_count(&iface->external_ids) : 0;
        struct lmh_ovsdb_kv *ids = xmalloc((n + 1) * sizeof *ids);
        size_t j = 0;

        if (iface) {
            const struct smap_node *node;
            SMAP_FOR_EACH (node, &iface->external_ids) {
                ids[j].key = node->key;
                ids[j].value = node->value;
                j++;
            }
        }
        cb(aux, port->name, port->n_tag ? (int) port->tag[0] : -1, ids, j);
        free(ids);
    }
    return end_call(db, LMH_OVSDB_OK);
}

int
lmh_ovsdb_list_interfaces(struct lmh_ovsdb *db, lmh_ovsdb_iface_cb *cb,
                          void *aux)
{
    int code = begin_read(db);
    if (code == LMH_OVSDB_OK) {
        const struct ovsrec_interface *iface;
        OVSREC_INTERFACE_FOR_EACH (iface, db->idl) {
            cb(aux, iface->name, iface->type,
               iface->n_ofport ? iface->ofport[0] : -1);
        }
    }
    return end_call(db, code);
}
