/*
 * fuzz_proxy.c: libFuzzer harness for proxy_parse(), which reads the
 * PROXY protocol header a balancer sends before anything else.
 * Properties: a length it returns is within the input and the limit of
 * its version; the header alone parses to the same length and address;
 * every shorter prefix of it asks for more bytes (so a header read in
 * pieces is taken exactly when whole); a refused input stays refused
 * with more bytes after it; a taken address is IPv4 or IPv6 with the
 * length of its family.
 */
#include <stdint.h>
#include <stdlib.h>

#include "../../src/proxy.c"

#define FUZZ_ASSERT(c)	do { if (!(c)) abort(); } while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct proxy_hdr	 h, h2;
	unsigned char		*more;
	size_t			 k;
	int			 n, m;

	memset(&h, 0, sizeof(h));
	n = proxy_parse(data, len, &h);
	FUZZ_ASSERT(n >= -1 && (size_t)(n > 0 ? n : 0) <= len);
	if (n > 0) {
		FUZZ_ASSERT(n <= PROXY_V2_MAX_BYTES);
		if (data[0] == 'P')
			FUZZ_ASSERT(n <= PROXY_V1_MAX_BYTES);
		if (!h.local)
			FUZZ_ASSERT((h.src.ss_family == AF_INET &&
			    h.srclen == sizeof(struct sockaddr_in)) ||
			    (h.src.ss_family == AF_INET6 &&
			    h.srclen == sizeof(struct sockaddr_in6)));
		memset(&h2, 0, sizeof(h2));
		m = proxy_parse(data, (size_t)n, &h2);
		FUZZ_ASSERT(m == n && h2.local == h.local &&
		    h2.srclen == h.srclen &&
		    memcmp(&h2.src, &h.src, h.srclen) == 0);
		for (k = 0; k < (size_t)n; k++)
			FUZZ_ASSERT(proxy_parse(data, k, &h2) == 0);
	}
	if (n == -1 && len < 4096) {
		if ((more = malloc(len + 64)) == NULL)
			abort();
		memcpy(more, data, len);
		memset(more + len, 'A', 64);
		FUZZ_ASSERT(proxy_parse(more, len + 64, &h2) == -1);
		free(more);
	}
	return 0;
}
