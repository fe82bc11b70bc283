/* GET /api/v1/openapi.json. */
#include "server_int.h"

const char sm__openapi_json[] = "{}\n";

int sm__routes_openapi(sm_srv *srv)
{
    (void)srv;
    return 0;
}
