/* bare.c - the references requests are measured against: ulfius on libmicrohttpd's epoll
 * thread pool, a per-thread libpq connection, no authentication, no validation, no access log.
 *   GET  /bench/bare/<uuid>          one prepared primary-key SELECT (account.users by default)
 *   POST /bench/bare/immunizations   one prepared single-row INSERT of the JSON body's record
 *                                    into records.immunizations (synchronous commit)
 * Usage: sesshu-bench-bare PORT CONNINFO [SQL] (the role that owns the table the route uses).
 * SQL (one $1, answering one text column) replaces the default lookup: bench/lookup.sh passes
 * the records service's own single-record read. */
#include <arpa/inet.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ulfius.h>

static const char *conninfo;
static const char *query = "SELECT row_to_json(u)::text FROM (SELECT id, login_id, name, email, "
                           "role, status, last_login_at FROM account.users WHERE id = $1::uuid) u";
static _Thread_local PGconn *conn;

static void connect_once(void)
{
    if (conn != NULL && PQstatus(conn) == CONNECTION_OK)
        return;
    if (conn != NULL)
        PQfinish(conn);
    conn = PQconnectdb(conninfo);
    /* One of the two fails for the other role: each run uses one route. */
    PQclear(PQprepare(conn, "q", query, 1, NULL));
    PQclear(PQprepare(conn, "ins",
                      "INSERT INTO records.immunizations (person_id, muni_code, vaccinated_on, "
                      "vaccine_code, disease_codes, dose_number, lot_no, institution_code, "
                      "doctor_name, category, requested_category, source, registered_org_id, "
                      "registered_by, updated_by) SELECT $1::uuid, p.muni_code, $2::date, $3, "
                      "ARRAY['diphtheria', 'pertussis', 'tetanus', 'polio', 'hib'], $4::int, $5, "
                      "$6, $7, $8, $8, 'api', gen_random_uuid(), 'bench', 'bench' FROM "
                      "records.persons p WHERE p.id = $1::uuid RETURNING id::text",
                      8, NULL));
}

static int insert(const struct _u_request *req, struct _u_response *resp, void *ud)
{
    json_t *b = json_loadb(req->binary_body, req->binary_body_length, 0, NULL);
    char dose[16];
    PGresult *r;

    (void)ud;
    connect_once();
    snprintf(dose, sizeof(dose), "%lld",
             (long long)json_integer_value(json_object_get(b, "dose_number")));
    const char *params[8] = {json_string_value(json_object_get(b, "person_id")),
                             json_string_value(json_object_get(b, "vaccinated_on")),
                             json_string_value(json_object_get(b, "vaccine_code")),
                             dose,
                             json_string_value(json_object_get(b, "lot_no")),
                             json_string_value(json_object_get(b, "institution_code")),
                             json_string_value(json_object_get(b, "doctor_name")),
                             json_string_value(json_object_get(b, "category"))};
    r = PQexecPrepared(conn, "ins", 8, params, NULL, NULL, 0);
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        u_map_put(resp->map_header, "Content-Type", "application/json");
        ulfius_set_string_body_response(resp, 201, PQgetvalue(r, 0, 0));
    } else {
        ulfius_set_string_body_response(resp, 422, "{}");
    }
    PQclear(r);
    json_decref(b);
    return U_CALLBACK_COMPLETE;
}

static int lookup(const struct _u_request *req, struct _u_response *resp, void *ud)
{
    const char *id = u_map_get(req->map_url, "id");
    const char *params[1] = {id};
    PGresult *r;

    (void)ud;
    connect_once();
    r = PQexecPrepared(conn, "q", 1, params, NULL, NULL, 0);
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        u_map_put(resp->map_header, "Content-Type", "application/json");
        ulfius_set_string_body_response(resp, 200, PQgetvalue(r, 0, 0));
    } else {
        ulfius_set_string_body_response(resp, 404, "{}");
    }
    PQclear(r);
    return U_CALLBACK_COMPLETE;
}

int main(int argc, char **argv)
{
    struct _u_instance inst;
    struct sockaddr_in addr;
    sigset_t set;
    int sig;

    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: %s PORT CONNINFO [SQL]\n", argv[0]);
        return 2;
    }
    conninfo = argv[2];
    if (argc == 4)
        query = argv[3];
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)atoi(argv[1]));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ulfius_init_instance(&inst, (unsigned)atoi(argv[1]), &addr, NULL);
    ulfius_add_endpoint_by_val(&inst, "GET", NULL, "/bench/bare/:id", 0, lookup, NULL);
    ulfius_add_endpoint_by_val(&inst, "POST", NULL, "/bench/bare/immunizations", 0, insert, NULL);
    {
        struct MHD_OptionItem ops[] = {
            {MHD_OPTION_THREAD_POOL_SIZE, 4, NULL},
            {MHD_OPTION_CONNECTION_LIMIT, 4096, NULL},
            {MHD_OPTION_CONNECTION_TIMEOUT, 30, NULL},
            {MHD_OPTION_SOCK_ADDR, 0, &addr},
            {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)mhd_request_completed, NULL},
            {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)ulfius_uri_logger, NULL},
            {MHD_OPTION_END, 0, NULL},
        };
        if (ulfius_start_framework_with_mhd_options(
                &inst, MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TURBO, ops) != U_OK) {
            fprintf(stderr, "cannot listen\n");
            return 1;
        }
    }
    sigwait(&set, &sig);
    ulfius_stop_framework(&inst);
    ulfius_clean_instance(&inst);
    return 0;
}
