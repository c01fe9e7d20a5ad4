/* proxy.h - which peers may speak for the client (X-Real-IP): the gateway's addresses only.
 *
 * SESSHU_TRUSTED_PROXIES lists them, comma-separated, each an IPv4 or IPv6 address or a CIDR
 * block (default "127.0.0.2", the address the local gateway connects from: nginx
 * proxy_bind). A request from any other peer is logged and limited by its own address, so
 * calling a service port directly neither forges client_ip nor slips past an API client's
 * allowed_addresses. */
#ifndef SESSHU_PROXY_H
#define SESSHU_PROXY_H

#include <stdbool.h>
#include <sys/socket.h>

#define SS_TRUSTED_PROXIES_DEF "127.0.0.2"

/* Is the peer one of `list` (the syntax above)? A malformed entry matches nothing. */
bool ss_proxy_in_list(const char *list, const struct sockaddr *peer);
/* Is the peer one of SESSHU_TRUSTED_PROXIES (read once)? */
bool ss_proxy_trusted(const struct sockaddr *peer);

#endif
