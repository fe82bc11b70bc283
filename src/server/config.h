/* Server configuration: defaults < INI file < SAMPLEMIND_* environment < flags. */
#ifndef SM_SERVER_CONFIG_H
#define SM_SERVER_CONFIG_H

#include <stdio.h>

#include "server.h"

/* Fill \p c with the defaults (strings are new). */
int sm__config_defaults(struct sm_srv_config *c);
/* Free the strings of \p c. */
void sm__config_release(struct sm_srv_config *c);

/* Set option \p name (INI key spelling, "max_body") from text \p value.
 * \return 0, or -1 with \p err naming the option and \p source. */
int sm__config_set(struct sm_srv_config *c, const char *name, const char *value,
                   const char *source, sm_error *err);
/* Read the INI file \p path: keys at top level or in [server]. */
int sm__config_load_ini(struct sm_srv_config *c, const char *path, sm_error *err);
/* Apply every SAMPLEMIND_<NAME> variable that is set. */
int sm__config_load_env(struct sm_srv_config *c, sm_error *err);
/* If argv[*i] is "--opt-name VALUE" or "--opt-name=VALUE" of an option, apply it.
 * \return 1 when taken (advancing *i past the value), 0 when not an option, -1 on error. */
int sm__config_take_flag(struct sm_srv_config *c, int argc, char **argv, int *i, sm_error *err);
/* Fill in what depends on other options (db from data_dir...). */
int sm__config_finish(struct sm_srv_config *c, sm_error *err);
/* Print every option: flag, environment variable, default and help. */
void sm__config_help(FILE *out);

#endif
