/*
 * fuzz_sni.c: libFuzzer harness for tls_sni_name(), which reads the host
 * name out of a ClientHello's server_name extension before OpenSSL has
 * parsed it. Properties: a name it returns lies inside the input, fills
 * it after the five bytes of list length, type and name length, is at
 * most TLSEXT_MAXLEN_host_name bytes and holds no NUL. Against a
 * deliberately naive reference: the input is accepted exactly when it
 * is the encoding, built byte by byte, of its own tail as one host_name.
 */
#include <stdint.h>
#include <stdlib.h>

#include "../../src/tls.c"

#define FUZZ_ASSERT(c)	do { if (!(c)) abort(); } while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The reference: encode the candidate name, compare with the input. */
static int
ref_sni_name(const uint8_t *in, size_t len)
{
	uint8_t	*enc;
	size_t	 n, i;
	int	 ok;

	if (len < 5)
		return -1;
	n = len - 5;
	if (n > 255)
		return -1;
	for (i = 0; i < n; i++)
		if (in[5 + i] == 0)
			return -1;
	if ((enc = malloc(len)) == NULL)
		abort();
	enc[0] = (uint8_t)((n + 3) / 256);
	enc[1] = (uint8_t)((n + 3) % 256);
	enc[2] = 0;			/* host_name */
	enc[3] = (uint8_t)(n / 256);
	enc[4] = (uint8_t)(n % 256);
	for (i = 0; i < n; i++)
		enc[5 + i] = in[5 + i];
	ok = memcmp(enc, in, len) == 0;
	free(enc);
	return ok ? 0 : -1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*name = NULL;
	uint8_t		*buf;
	size_t		 len = 0;
	int		 rv;

	/* An exact-size copy, so a read past the end is caught. */
	if ((buf = malloc(size > 0 ? size : 1)) == NULL)
		abort();
	memcpy(buf, data, size);
	rv = tls_sni_name(buf, size, &name, &len);
	FUZZ_ASSERT(rv == 0 || rv == -1);
	FUZZ_ASSERT(rv == ref_sni_name(buf, size));
	if (rv == 0) {
		FUZZ_ASSERT(name == (const char *)buf + 5);
		FUZZ_ASSERT(len == size - 5);
		FUZZ_ASSERT(len <= TLSEXT_MAXLEN_host_name);
		FUZZ_ASSERT(memchr(name, '\0', len) == NULL);
	}
	free(buf);
	return 0;
}
