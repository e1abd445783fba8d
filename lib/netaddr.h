/* netaddr.h — "HOST:PORT" strings to socket addresses and back. */
#ifndef ORC_NETADDR_H
#define ORC_NETADDR_H

#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>

/* Parses "1.2.3.4:80", "[::1]:80" or "localhost:80" (literal addresses only,
 * plus localhost). ORC_EINVAL otherwise. */
int orc_netaddr_parse(const char *hostport, struct sockaddr_storage *out);
/* Splits "HOST:PORT" into host (n bytes) and port. ORC_EINVAL on bad input. */
int orc_netaddr_split(const char *hostport, char *host, size_t n, int *port);

#endif
