/* OVN's northbound and southbound databases through Open vSwitch's OVSDB
 * IDL and the nbrec_/sbrec_ classes generated from OVN's schemas, written
 * as harness/ovs/ovsdb_c.c writes the Open_vSwitch database: run the IDL
 * until the replica is current, build one transaction from it, commit, and
 * handle every result, rebuilding from fresh state on TXN_TRY_AGAIN; every
 * wait is bounded by the handle's deadline. Port states are found by
 * comparing the replicas against the states last reported (a cache keyed by
 * port name), not by the IDL's change tracking: a state joins rows of three
 * tables in two databases, and comparing the joined result is what says
 * whether what neutron would see changed. See ovn_idl_c.h. */
#include <config.h>

#include "harness/ovs/ovn_idl_c.h"

#include "harness/ovs/ovs_c_common.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/shash.h"
#include "ovn-nb-idl.h"
#include "ovn-sb-idl.h"
#include "ovsdb-idl.h"
#include "smap.h"
#include "svec.h"
#include "timeval.h"
#include "util.h"

/* One port as neutron's monitors see it (struct lmh_ovn_port_state, owned). */
struct port_state {
    bool up;
    char *chassis;              /* "" for none */
    struct svec additional;     /* sorted chassis names */
    char *activated;            /* "" for none */
};

/* One IDL connection. */
struct conn {
    struct ovsdb_idl *idl;
    char *remote;
    const char *what;           /* "northbound" | "southbound" */
    unsigned int seen_seqno;    /* the replica's seqno the cache reflects */
};

struct lmh_ovn {
    struct conn nb, sb;
    int timeout_ms;
    char *error;                /* of the last failed call, NULL after success */
    struct shash reported;      /* port name -> struct port_state * */
    struct lmh_ovs_sigpipe_guard sigpipe;  /* while a call runs */
};

/* The columns the handle reads or writes; nothing else is replicated. */
static const struct ovsdb_idl_column *const nb_columns[] = {
    &nbrec_logical_switch_col_name,
    &nbrec_logical_switch_col_ports,
    &nbrec_logical_switch_port_col_name,
    &nbrec_logical_switch_port_col_type,
    &nbrec_logical_switch_port_col_addresses,
    &nbrec_logical_switch_port_col_port_security,
    &nbrec_logical_switch_port_col_options,
    &nbrec_logical_switch_port_col_tag_request,
    &nbrec_logical_switch_port_col_up,
};

static const struct ovsdb_idl_column *const sb_columns[] = {
    &sbrec_port_binding_col_logical_port,
    &sbrec_port_binding_col_chassis,
    &sbrec_port_binding_col_additional_chassis,
    &sbrec_port_binding_col_options,
    &sbrec_chassis_col_name,
};

/* Starts a public call on 'ovn': clears the last error, blocks SIGPIPE. */
static void
begin_call(struct lmh_ovn *ovn)
{
    free(ovn->error);
    ovn->error = NULL;
    lmh_ovs_block_sigpipe(&ovn->sigpipe);
}

/* Ends a public call on 'ovn' with result 'code', which it returns. */
static int
end_call(struct lmh_ovn *ovn, int code)
{
    lmh_ovs_unblock_sigpipe(&ovn->sigpipe);
    return code;
}

/* Records the message 'format' as 'ovn''s error and returns 'code'. */
static int OVS_PRINTF_FORMAT(3, 4)
fail(struct lmh_ovn *ovn, int code, const char *format, ...)
{
    va_list args;

    va_start(args, format);
    free(ovn->error);
    ovn->error = xvasprintf(format, args);
    va_end(args);
    return code;
}

static bool
conn_ready(const struct conn *c)
{
    return ovsdb_idl_is_connected(c->idl) && ovsdb_idl_has_ever_connected(c->idl);
}

/* Runs 'c''s IDL until it is connected and holds the database's contents,
 * at most until 'deadline'. Returns LMH_OVN_OK or LMH_OVN_UNAVAILABLE. */
static int
wait_connected(struct lmh_ovn *ovn, struct conn *c, long long int deadline)
{
    for (;;) {
        ovsdb_idl_run(c->idl);
        if (!ovsdb_idl_is_alive(c->idl)) {
            return fail(ovn, LMH_OVN_UNAVAILABLE, "OVN %s database at %s: "
                        "connection failed (%s)", c->what, c->remote,
                        ovs_retval_to_string(ovsdb_idl_get_last_error(c->idl)));
        }
        if (conn_ready(c)) {
            return LMH_OVN_OK;
        }
        if (time_msec() >= deadline) {
            int error = ovsdb_idl_get_last_error(c->idl);
            return fail(ovn, LMH_OVN_UNAVAILABLE,
                        "no connection to the OVN %s database at %s within "
                        "%d ms%s%s%s", c->what, c->remote, ovn->timeout_ms,
                        error ? " (" : "",
                        error ? ovs_retval_to_string(error) : "",
                        error ? ")" : "");
        }
        ovsdb_idl_wait(c->idl);
        poll_timer_wait_until(deadline);
        poll_block();
    }
}

/* Runs 'c''s IDL until its contents change from 'seqno' (new data after a
 * TXN_TRY_AGAIN), at most until 'deadline'. */
static int
wait_for_change(struct lmh_ovn *ovn, struct conn *c, unsigned int seqno,
                long long int deadline, const char *what)
{
    for (;;) {
        ovsdb_idl_run(c->idl);
        if (ovsdb_idl_get_seqno(c->idl) != seqno) {
            return LMH_OVN_OK;
        }
        if (time_msec() >= deadline) {
            return fail(ovn, LMH_OVN_UNAVAILABLE,
                        "%s: the OVN %s database at %s asked to try again, "
                        "and no fresh data came within %d ms", what, c->what,
                        c->remote, ovn->timeout_ms);
        }
        ovsdb_idl_wait(c->idl);
        poll_timer_wait_until(deadline);
        poll_block();
    }
}

/* ovsdb_idl_txn_commit_block() with a deadline: commits 'txn' and runs the
 * IDL until the server replied or 'deadline' passed (then TXN_INCOMPLETE). */
static enum ovsdb_idl_txn_status
commit_until(struct conn *c, struct ovsdb_idl_txn *txn, long long int deadline)
{
    enum ovsdb_idl_txn_status status;

    while ((status = ovsdb_idl_txn_commit(txn)) == TXN_INCOMPLETE
           && time_msec() < deadline) {
        ovsdb_idl_run(c->idl);
        ovsdb_idl_wait(c->idl);
        ovsdb_idl_txn_wait(txn);
        poll_timer_wait_until(deadline);
        poll_block();
    }
    return status;
}

/* Adds the changes of one request to 'txn', reading the northbound replica;
 * returns LMH_OVN_OK or why the request cannot be made (then nothing
 * commits). */
typedef int txn_builder(struct lmh_ovn *ovn, struct ovsdb_idl_txn *txn,
                        const void *request);

/* Runs one northbound write: 'build' adds 'request''s changes to a fresh
 * transaction, which commits; TXN_TRY_AGAIN rebuilds it from new data.
 * 'what' names the request in the transaction's comment and in errors. All
 * of it happens before 'ovn''s timeout. */
static int
transact(struct lmh_ovn *ovn, const char *what, txn_builder *build,
         const void *request)
{
    long long int deadline = time_msec() + ovn->timeout_ms;
    struct conn *c = &ovn->nb;

    for (;;) {
        int code = wait_connected(ovn, c, deadline);
        if (code != LMH_OVN_OK) {
            return code;
        }
        unsigned int seqno = ovsdb_idl_get_seqno(c->idl);
        struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(c->idl);
        ovsdb_idl_txn_add_comment(txn, "lmh: %s", what);
        code = build(ovn, txn, request);
        if (code != LMH_OVN_OK) {
            ovsdb_idl_txn_destroy(txn);
            return code;
        }

        enum ovsdb_idl_txn_status status = commit_until(c, txn, deadline);
        switch (status) {
        case TXN_SUCCESS:
        case TXN_UNCHANGED:
            ovsdb_idl_txn_destroy(txn);
            return LMH_OVN_OK;

        case TXN_TRY_AGAIN:
            /* A verified column changed, or the connection is being
             * re-established: rebuild from the data that comes next. */
            ovsdb_idl_txn_destroy(txn);
            code = wait_for_change(ovn, c, seqno, deadline, what);
            if (code != LMH_OVN_OK) {
                return code;
            }
            continue;

        case TXN_INCOMPLETE:
            /* The deadline passed before the reply; destroying the
             * transaction makes the IDL forget it. */
            ovsdb_idl_txn_destroy(txn);
            return fail(ovn, LMH_OVN_DEADLINE_EXCEEDED,
                        "%s: no reply from the OVN %s database at %s within "
                        "%d ms", what, c->what, c->remote, ovn->timeout_ms);

        case TXN_ERROR: {
            /* Logical_Switch_Port's name is a unique index: a port another
             * client created since the replica was read. */
            const char *error = ovsdb_idl_txn_get_error(txn);
            code = fail(ovn, (strstr(error, "constraint violation")
                              ? LMH_OVN_ALREADY_EXISTS : LMH_OVN_INTERNAL),
                        "%s: transaction error: %s", what, error);
            ovsdb_idl_txn_destroy(txn);
            return code;
        }

        case TXN_ABORTED:       /* We never call ovsdb_idl_txn_abort(). */
        case TXN_NOT_LOCKED:    /* We never call ovsdb_idl_set_lock(). */
        case TXN_UNCOMMITTED:   /* Commit returns no such thing. */
        default:
            code = fail(ovn, LMH_OVN_INTERNAL,
                        "%s: unexpected transaction status %s", what,
                        ovsdb_idl_txn_status_to_string(status));
            ovsdb_idl_txn_destroy(txn);
            return code;
        }
    }
}

/* Northbound replica lookups. */

static const struct nbrec_logical_switch *
find_switch(const struct ovsdb_idl *idl, const char *name)
{
    const struct nbrec_logical_switch *ls;

    NBREC_LOGICAL_SWITCH_FOR_EACH (ls, idl) {
        if (!strcmp(ls->name, name)) {
            return ls;
        }
    }
    return NULL;
}

static const struct nbrec_logical_switch_port *
find_port(const struct ovsdb_idl *idl, const char *name)
{
    const struct nbrec_logical_switch_port *lsp;

    NBREC_LOGICAL_SWITCH_PORT_FOR_EACH (lsp, idl) {
        if (!strcmp(lsp->name, name)) {
            return lsp;
        }
    }
    return NULL;
}

/* The switch whose ports include 'lsp', or NULL. */
static const struct nbrec_logical_switch *
port_switch(const struct ovsdb_idl *idl,
            const struct nbrec_logical_switch_port *lsp)
{
    const struct nbrec_logical_switch *ls;

    NBREC_LOGICAL_SWITCH_FOR_EACH (ls, idl) {
        for (size_t i = 0; i < ls->n_ports; i++) {
            if (ls->ports[i] == lsp) {
                return ls;
            }
        }
    }
    return NULL;
}

static void
fill_smap(struct smap *map, const struct lmh_ovn_kv *kvs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        smap_replace(map, kvs[i].key, kvs[i].value);
    }
}

/* The requests. */

static int
build_ensure_switch(struct lmh_ovn *ovn, struct ovsdb_idl_txn *txn,
                    const void *request)
{
    const struct lmh_ovn_switch_spec *spec = request;

    if (find_switch(ovn->nb.idl, spec->name)) {
        return LMH_OVN_OK;
    }
    struct nbrec_logical_switch *ls = nbrec_logical_switch_insert(txn);
    nbrec_logical_switch_set_name(ls, spec->name);
    if (spec->localnet_port && spec->localnet_port[0]) {
        /* As neutron's ovn_client create_provnet_port(). */
        struct nbrec_logical_switch_port *lsp
            = nbrec_logical_switch_port_insert(txn);
        const char *unknown = "unknown";
        struct smap options = SMAP_INITIALIZER(&options);

        nbrec_logical_switch_port_set_name(lsp, spec->localnet_port);
        nbrec_logical_switch_port_set_type(lsp, "localnet");
        nbrec_logical_switch_port_set_addresses(lsp, &unknown, 1);
        smap_add(&options, "network_name", spec->physnet ? spec->physnet : "");
        nbrec_logical_switch_port_set_options(lsp, &options);
        smap_destroy(&options);
        if (spec->tag > 0) {
            /* northd copies tag_request into tag. */
            int64_t tag = spec->tag;
            nbrec_logical_switch_port_set_tag_request(lsp, &tag, 1);
        }
        nbrec_logical_switch_set_ports(ls, (struct nbrec_logical_switch_port **) &lsp, 1);
    }
    return LMH_OVN_OK;
}

static int
build_create_port(struct lmh_ovn *ovn, struct ovsdb_idl_txn *txn,
                  const void *request)
{
    const struct lmh_ovn_port_spec *spec = request;
    const struct nbrec_logical_switch *ls
        = find_switch(ovn->nb.idl, spec->logical_switch);

    if (!ls) {
        return fail(ovn, LMH_OVN_NOT_FOUND, "cannot create port %s: logical "
                    "switch %s does not exist", spec->name,
                    spec->logical_switch);
    }
    if (find_port(ovn->nb.idl, spec->name)) {
        return fail(ovn, LMH_OVN_ALREADY_EXISTS, "logical switch port %s "
                    "exists", spec->name);
    }
    char *address = xasprintf("%s %s", spec->mac, spec->ip);
    const char *addresses = address;
    struct smap options = SMAP_INITIALIZER(&options);
    struct nbrec_logical_switch_port *lsp
        = nbrec_logical_switch_port_insert(txn);

    nbrec_logical_switch_port_set_name(lsp, spec->name);
    nbrec_logical_switch_port_set_addresses(lsp, &addresses, 1);
    nbrec_logical_switch_port_set_port_security(lsp, &addresses, 1);
    fill_smap(&options, spec->options, spec->n_options);
    nbrec_logical_switch_port_set_options(lsp, &options);
    smap_destroy(&options);
    free(address);
    /* A mutation: concurrent additions to the switch do not conflict. */
    nbrec_logical_switch_update_ports_addvalue(ls, lsp);
    return LMH_OVN_OK;
}

struct options_request {
    const char *name;
    const struct lmh_ovn_kv *options;
    size_t n;
};

static int
build_set_port_options(struct lmh_ovn *ovn, struct ovsdb_idl_txn *txn,
                       const void *request_)
{
    const struct options_request *request = request_;
    const struct nbrec_logical_switch_port *lsp
        = find_port(ovn->nb.idl, request->name);

    if (!lsp) {
        return fail(ovn, LMH_OVN_NOT_FOUND, "logical switch port %s does not "
                    "exist", request->name);
    }
    /* The whole column, as neutron's set_lswitch_port(options=...). */
    struct smap options = SMAP_INITIALIZER(&options);
    fill_smap(&options, request->options, request->n);
    nbrec_logical_switch_port_set_options(lsp, &options);
    smap_destroy(&options);
    return LMH_OVN_OK;
}

static int
build_delete_port(struct lmh_ovn *ovn, struct ovsdb_idl_txn *txn,
                  const void *request)
{
    const char *name = request;
    const struct nbrec_logical_switch_port *lsp = find_port(ovn->nb.idl, name);

    if (!lsp) {
        return LMH_OVN_OK;
    }
    const struct nbrec_logical_switch *ls = port_switch(ovn->nb.idl, lsp);
    if (ls) {
        nbrec_logical_switch_update_ports_delvalue(ls, lsp);
    }
    nbrec_logical_switch_port_delete(lsp);
    return LMH_OVN_OK;
}

/* Port states. */

static struct port_state *
port_state_create(void)
{
    struct port_state *s = xzalloc(sizeof *s);
    s->chassis = xstrdup("");
    s->activated = xstrdup("");
    svec_init(&s->additional);
    return s;
}

static void
port_state_destroy(struct port_state *s)
{
    if (s) {
        free(s->chassis);
        free(s->activated);
        svec_destroy(&s->additional);
        free(s);
    }
}

static bool
port_state_is_empty(const struct port_state *s)
{
    return !s->up && !s->chassis[0] && !s->additional.n && !s->activated[0];
}

static bool
port_state_equal(const struct port_state *a, const struct port_state *b)
{
    return (a->up == b->up && !strcmp(a->chassis, b->chassis)
            && !strcmp(a->activated, b->activated)
            && svec_equal(&a->additional, &b->additional));
}

/* The state of every northbound port in the replicas, into 'states' (port
 * name -> struct port_state *). */
static void
current_states(const struct lmh_ovn *ovn, struct shash *states)
{
    const struct nbrec_logical_switch_port *lsp;
    const struct sbrec_port_binding *pb;

    NBREC_LOGICAL_SWITCH_PORT_FOR_EACH (lsp, ovn->nb.idl) {
        struct port_state *s = port_state_create();
        s->up = lsp->n_up && lsp->up[0];
        port_state_destroy(shash_replace(states, lsp->name, s));
    }
    SBREC_PORT_BINDING_FOR_EACH (pb, ovn->sb.idl) {
        struct port_state *s = shash_find_data(states, pb->logical_port);
        if (!s) {
            continue;           /* Not a northbound switch port (or gone). */
        }
        free(s->chassis);
        s->chassis = xstrdup(pb->chassis ? pb->chassis->name : "");
        for (size_t i = 0; i < pb->n_additional_chassis; i++) {
            svec_add(&s->additional, pb->additional_chassis[i]->name);
        }
        svec_sort(&s->additional);
        free(s->activated);
        s->activated = xstrdup(smap_get_def(&pb->options,
                                            "additional-chassis-activated",
                                            ""));
    }
}

/* Brings 'ovn->reported' up to date with the replicas and, unless
 * 'changed' is NULL, adds the name of each port whose state changed to
 * 'changed' (at most once). */
static void
update_reported(struct lmh_ovn *ovn, struct svec *changed)
{
    struct shash current = SHASH_INITIALIZER(&current);
    struct shash_node *node;

    current_states(ovn, &current);
    /* Changed or new ports, in name order. */
    const struct shash_node **sorted = shash_sort(&current);
    size_t n = shash_count(&current);
    for (size_t i = 0; i < n; i++) {
        const char *name = sorted[i]->name;
        struct port_state *now = sorted[i]->data;
        struct port_state *before = shash_find_data(&ovn->reported, name);
        bool differs = (before ? !port_state_equal(before, now)
                        : !port_state_is_empty(now));
        if (differs && changed && !svec_contains_unsorted(changed, name)) {
            svec_add(changed, name);
        }
    }
    free(sorted);
    /* Deleted ports: reported with the empty state (see the header). */
    struct svec gone = SVEC_EMPTY_INITIALIZER;
    SHASH_FOR_EACH (node, &ovn->reported) {
        if (!shash_find(&current, node->name)) {
            svec_add(&gone, node->name);
        }
    }
    svec_sort(&gone);
    for (size_t i = 0; i < gone.n; i++) {
        struct port_state *before = shash_find_and_delete(&ovn->reported,
                                                          gone.names[i]);
        if (!port_state_is_empty(before) && changed
            && !svec_contains_unsorted(changed, gone.names[i])) {
            svec_add(changed, gone.names[i]);
        }
        port_state_destroy(before);
    }
    svec_destroy(&gone);
    /* The current states become the reported ones. */
    SHASH_FOR_EACH (node, &current) {
        port_state_destroy(shash_replace(&ovn->reported, node->name,
                                         node->data));
    }
    shash_destroy(&current);
}

/* Runs 'c''s IDL once, without waiting; true when its contents changed
 * since 'c' was last run here. */
static bool
run_conn(struct conn *c)
{
    ovsdb_idl_run(c->idl);
    unsigned int seqno = ovsdb_idl_get_seqno(c->idl);
    bool changed = seqno != c->seen_seqno;
    c->seen_seqno = seqno;
    return changed;
}

/* The public API. */

static void
conn_open(struct conn *c, const char *remote, const char *what,
          const struct ovsdb_idl_class *class,
          const struct ovsdb_idl_column *const *columns, size_t n)
{
    c->remote = xstrdup(remote);
    c->what = what;
    /* Monitor only what we use; retry (reconnect) when the connection drops. */
    c->idl = ovsdb_idl_create(remote, class, false, true);
    for (size_t i = 0; i < n; i++) {
        ovsdb_idl_add_column(c->idl, columns[i]);
    }
    /* The tables of the columns above and nothing else is replicated;
     * nothing here needs the IDL's change tracking. */
}

struct lmh_ovn *
lmh_ovn_open(const char *nb_remote, const char *sb_remote, int timeout_ms)
{
    struct lmh_ovn *ovn;

    lmh_ovs_library_init();
    ovn = xzalloc(sizeof *ovn);
    ovn->timeout_ms = timeout_ms;
    shash_init(&ovn->reported);
    conn_open(&ovn->nb, nb_remote, "northbound", &nbrec_idl_class,
              nb_columns, ARRAY_SIZE(nb_columns));
    conn_open(&ovn->sb, sb_remote, "southbound", &sbrec_idl_class,
              sb_columns, ARRAY_SIZE(sb_columns));
    return ovn;
}

void
lmh_ovn_close(struct lmh_ovn *ovn)
{
    if (ovn) {
        struct shash_node *node;

        begin_call(ovn);
        ovsdb_idl_destroy(ovn->nb.idl);
        ovsdb_idl_destroy(ovn->sb.idl);
        end_call(ovn, LMH_OVN_OK);
        SHASH_FOR_EACH (node, &ovn->reported) {
            port_state_destroy(node->data);
        }
        shash_destroy(&ovn->reported);
        free(ovn->nb.remote);
        free(ovn->sb.remote);
        free(ovn->error);
        free(ovn);
    }
}

const char *
lmh_ovn_error(const struct lmh_ovn *ovn)
{
    return ovn->error ? ovn->error : "";
}

int
lmh_ovn_wait_connected(struct lmh_ovn *ovn)
{
    long long int deadline;
    int code;

    begin_call(ovn);
    deadline = time_msec() + ovn->timeout_ms;
    code = wait_connected(ovn, &ovn->nb, deadline);
    if (code == LMH_OVN_OK) {
        code = wait_connected(ovn, &ovn->sb, deadline);
    }
    if (code == LMH_OVN_OK) {
        run_conn(&ovn->nb);
        run_conn(&ovn->sb);
        update_reported(ovn, NULL);
    }
    return end_call(ovn, code);
}

/* Runs write 'build' for 'request' as one public call; 'what' is freed. */
static int
write_call(struct lmh_ovn *ovn, char *what, txn_builder *build,
           const void *request)
{
    begin_call(ovn);
    int code = transact(ovn, what, build, request);
    free(what);
    return end_call(ovn, code);
}

/* Whether 's' is a non-empty string. */
static bool
nonempty(const char *s)
{
    return s && s[0];
}

int
lmh_ovn_ensure_logical_switch(struct lmh_ovn *ovn,
                              const struct lmh_ovn_switch_spec *spec)
{
    if (!nonempty(spec->name) || spec->tag < 0 || spec->tag > 4095
        || (nonempty(spec->localnet_port) && !nonempty(spec->physnet))) {
        begin_call(ovn);
        return end_call(ovn, fail(ovn, LMH_OVN_INVALID_ARGUMENT,
                                  "logical switch '%s': needs a name, a tag "
                                  "in 0..4095 (%d) and a physnet for its "
                                  "localnet port",
                                  spec->name ? spec->name : "", spec->tag));
    }
    return write_call(ovn, xasprintf("--may-exist ls-add %s", spec->name),
                      build_ensure_switch, spec);
}

int
lmh_ovn_create_port(struct lmh_ovn *ovn, const struct lmh_ovn_port_spec *spec)
{
    if (!nonempty(spec->name) || !nonempty(spec->logical_switch)
        || !nonempty(spec->mac) || !nonempty(spec->ip)) {
        begin_call(ovn);
        return end_call(ovn, fail(ovn, LMH_OVN_INVALID_ARGUMENT,
                                  "logical switch port '%s': needs a name, a "
                                  "switch, a MAC and an IP",
                                  spec->name ? spec->name : ""));
    }
    return write_call(ovn, xasprintf("lsp-add %s %s", spec->logical_switch,
                                     spec->name),
                      build_create_port, spec);
}

int
lmh_ovn_set_port_options(struct lmh_ovn *ovn, const char *name,
                         const struct lmh_ovn_kv *options, size_t n)
{
    struct options_request request = { name, options, n };
    return write_call(ovn, xasprintf("lsp-set-options %s", name),
                      build_set_port_options, &request);
}

int
lmh_ovn_delete_port(struct lmh_ovn *ovn, const char *name)
{
    return write_call(ovn, xasprintf("--if-exists lsp-del %s", name),
                      build_delete_port, name);
}

int
lmh_ovn_run(struct lmh_ovn *ovn, lmh_ovn_port_state_cb *cb, void *aux)
{
    struct svec changed = SVEC_EMPTY_INITIALIZER;

    begin_call(ovn);
    /* One database at a time, so the northbound's changes come first. A
     * replica that is reconnecting keeps its last contents until the new
     * ones arrive whole, so no state flickers to empty meanwhile. */
    if (run_conn(&ovn->nb)) {
        update_reported(ovn, &changed);
    }
    if (run_conn(&ovn->sb)) {
        update_reported(ovn, &changed);
    }
    for (size_t i = 0; i < changed.n; i++) {
        const struct port_state *s = shash_find_data(&ovn->reported,
                                                     changed.names[i]);
        struct port_state *empty = s ? NULL : port_state_create();
        if (!s) {
            s = empty;          /* Deleted since. */
        }
        struct lmh_ovn_port_state state = {
            .name = changed.names[i],
            .up = s->up,
            .chassis = s->chassis,
            .additional_chassis = (const char *const *) s->additional.names,
            .n_additional_chassis = s->additional.n,
            .activated = s->activated,
        };
        cb(aux, &state);
        port_state_destroy(empty);
    }
    svec_destroy(&changed);
    return end_call(ovn, LMH_OVN_OK);
}
