/* The web page's files, embedded into the binary at build time by
 * cmake/embed_web.cmake from web/ (internal). */
#ifndef SM_SERVER_WEB_ASSETS_H
#define SM_SERVER_WEB_ASSETS_H

#include <stddef.h>

struct sm_web_asset {
    const char *path;          /* "/index.html", "/app.js" ... */
    const char *content_type;
    const unsigned char *data;
    size_t size;
    const char *etag;          /* quoted strong ETag: "\"<16 hex>\"" */
};

/* Terminated by an entry whose path is NULL. */
extern const struct sm_web_asset sm_web_assets[];
extern const size_t sm_web_assets_count;

#endif
