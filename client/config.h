/* config.h — client configuration files in kubeconfig format (admin.conf,
 * ~/.orc/config): the API server URL, the CA that signed its certificate,
 * and a bearer token, so both orctl and kubectl can use the same file. */
#ifndef ORC_CLIENT_CONFIG_H
#define ORC_CLIENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct orc_client_config {
    char *server; /* "https://127.0.0.1:6443"; owned */
    char *token;  /* bearer token; owned; never log it */
    char *ca_pem; /* the cluster's CA certificate(s), PEM, from
                     certificate-authority-data or the certificate-authority
                     file; owned; NULL when the file names none */
    bool insecure; /* insecure-skip-tls-verify: true */
    char *path;   /* file it came from; owned; NULL when none was read */
    /* Every API server of the cluster, for failover (the cluster entry's
     * extension ORC_CONFIG_SERVERS_EXT: {servers: [URL, ...]}); owned; 0
     * when the file lists none. kubectl ignores the extension. */
    char **servers;
    size_t n_servers;
};

#define ORC_CONFIG_SERVERS_EXT "orc.dev/servers"
#define ORC_CONFIG_MAX_SERVERS 16

/* Reads the server, CA and token of the current context (or the first
 * cluster/user when there is no current-context). A relative
 * certificate-authority or tokenFile path is taken from the config file's
 * directory, as kubectl does. path: explicit file, or NULL to search
 * $ORC_CONFIG then ~/.orc/config. ORC_ENOENT when no file is found;
 * ORC_EINVAL with a message naming the file when it cannot be used. */
int orc_config_load(const char *path, struct orc_client_config *out, char *errmsg, size_t n);

/* Writes a kubeconfig with one cluster "orc" (server, and ca_pem as
 * certificate-authority-data unless NULL), one user "admin" (token) and
 * current-context "orc", mode 0600, atomically (temp file + rename).
 * Creates the parent directory (0700) when missing. */
int orc_config_write(const char *path, const char *server, const char *ca_pem, const char *token);

/* Records the cluster's API servers (https URLs, at most
 * ORC_CONFIG_MAX_SERVERS) in the current context's cluster entry of the
 * config at path, rewriting the file (atomically, 0600) only when the list
 * differs. 0, ORC_EINVAL (no such cluster entry, a bad URL), or a read or
 * write error. */
int orc_config_set_servers(const char *path, const char *const *urls, size_t n);

/* ~/.orc/config for the current user (from $HOME). Static buffer. */
const char *orc_config_default_path(void);
/* The first file of $KUBECONFIG's colon-separated list that exists, or
 * NULL. Static buffer. orc_config_load(NULL, ...) reads $ORC_CONFIG, else
 * this, else orc_config_default_path(). */
const char *orc_config_kubeconfig_path(void);

void orc_config_clear(struct orc_client_config *c);

#endif
