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
/* "1.2.3.4:80" or "[::1]:80" of an AF_INET/AF_INET6 address, for logs. */
void orc_netaddr_format(const struct sockaddr *sa, char *out, size_t n);

#endif
