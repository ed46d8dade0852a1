/*
 * proxy.h: the PROXY protocol, versions 1 and 2 (haproxy's
 * proxy-protocol.txt), read at the start of a connection on a listener
 * marked proxy_protocol, before TLS and HTTP. It carries the address of
 * the client a load balancer accepted, which then stands for the peer.
 */
#ifndef PROXY_H
#define PROXY_H

#include <sys/socket.h>

#include "tine.h"

#define PROXY_V1_MAX_BYTES	107	/* the longest line, CRLF included */
#define PROXY_V2_HEAD_BYTES	16	/* signature, command, family, length */
/*
 * The longest v2 header taken: addresses and the TLVs balancers add
 * (AWS and GCP send tens of bytes). The length field allows 64 KiB;
 * more than this is refused, not read.
 */
#define PROXY_V2_MAX_BYTES	1024

/* What a header says. */
struct proxy_hdr {
	bool			 local;	/* LOCAL, UNKNOWN, or an address
					   family not carried: the
					   connection's own peer stands */
	struct sockaddr_storage	 src;	/* the client, when !local */
	socklen_t		 srclen;
};

/*
 * Parses a header at the start of buf: its length in bytes when whole
 * and valid, 0 when more bytes are needed to tell, -1 when it is not a
 * valid header (or longer than tine takes).
 */
int	proxy_parse(const unsigned char *, size_t, struct proxy_hdr *);
/*
 * Reads a header from the socket fd without reading past it (the bytes
 * after it belong to TLS or HTTP), waiting until deadline (util_now_ms
 * time). 0 and *h filled, or -1 with errno: EPROTO for a bad header,
 * ETIMEDOUT, ECONNRESET for a close before it was whole, or that of the
 * failed call.
 */
int	proxy_read(int, int64_t, struct proxy_hdr *);

#endif /* PROXY_H */
