/*
 * fuzz_path.c: libFuzzer harness for file_normalize(). Every input is
 * checked against properties (absolute, no "." or ".." segment, no "//",
 * no NUL) and against a deliberately naive reference below: decode the
 * whole path first, then split on '/' with a stack of segments. Output
 * sizes are probed at the exact fit and one byte short.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdint.h>

#include "../../src/file.c"

/*
 * The reference. Slow and obvious on purpose: strtol on a copied pair of
 * hex digits, a malloc'ed decoded copy, an array of segment pointers.
 * Returns 0 with *res (malloc'ed) or HTTP_BAD_REQUEST.
 */
static int
ref_normalize(const uint8_t *in, size_t len, char **res)
{
	char	*dec, *out, **stack, hex[3];
	size_t	 i, n = 0, depth = 0, o = 0, start;
	int	 trail = 0;
	long	 v;

	*res = NULL;
	if (len == 0 || in[0] != '/')
		return HTTP_BAD_REQUEST;
	dec = malloc(len + 1);
	for (i = 0; i < len; i++) {
		if (in[i] == '\0')
			goto bad;
		if (in[i] != '%') {
			dec[n++] = (char)in[i];
			continue;
		}
		if (i + 2 >= len ||
		    strchr("0123456789abcdefABCDEF", in[i + 1]) == NULL ||
		    strchr("0123456789abcdefABCDEF", in[i + 2]) == NULL ||
		    in[i + 1] == '\0' || in[i + 2] == '\0')
			goto bad;
		hex[0] = (char)in[i + 1];
		hex[1] = (char)in[i + 2];
		hex[2] = '\0';
		v = strtol(hex, NULL, 16);
		if (v == 0 || v == '/')
			goto bad;
		dec[n++] = (char)v;
		i += 2;
	}
	dec[n] = '\0';

	/* Split the decoded path on '/'; the first segment follows dec[0]. */
	stack = calloc(n + 1, sizeof(*stack));
	for (i = 1, start = 1; i <= n; i++) {
		if (i < n && dec[i] != '/')
			continue;
		dec[i] = '\0';
		if (strcmp(dec + start, "") == 0 ||
		    strcmp(dec + start, ".") == 0)
			trail = 1;
		else if (strcmp(dec + start, "..") == 0) {
			trail = 1;
			if (depth > 0)
				depth--;
		} else {
			trail = 0;
			stack[depth++] = dec + start;
		}
		start = i + 1;
	}
	out = malloc(n + 2);
	for (i = 0; i < depth; i++)
		o += (size_t)sprintf(out + o, "/%s", stack[i]);
	if (depth == 0 || trail)
		out[o++] = '/';
	out[o] = '\0';
	free(stack);
	free(dec);
	*res = out;
	return 0;

 bad:
	free(dec);
	return HTTP_BAD_REQUEST;
}

static void
check_props(const char *out, size_t outlen)
{
	const char	*seg, *p;

	assert(outlen > 0 && out[0] == '/');
	assert(strstr(out, "//") == NULL);
	for (seg = out + 1; seg < out + outlen; seg = p + 1) {
		if ((p = strchr(seg, '/')) == NULL)
			p = out + outlen;
		assert(!((p - seg) == 1 && seg[0] == '.'));
		assert(!((p - seg) == 2 && seg[0] == '.' && seg[1] == '.'));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char	*out, *ref;
	size_t	 size, outlen;
	int	 st, rst;

	/* Output never outgrows the input; +1 for the NUL. Exact-size
	 * heap buffers let ASan see a one-byte overrun. */
	size = len + 1;
	out = malloc(size);
	st = file_normalize((const char *)data, len, out, size);
	rst = ref_normalize(data, len, &ref);
	assert(st == rst);
	if (st != 0) {
		assert(out[0] == '\0');
		free(out);
		return 0;
	}
	outlen = strlen(out);
	assert(outlen < size);
	check_props(out, outlen);
	assert(strcmp(out, ref) == 0);
	free(out);

	/* Exact fit, then one byte short. */
	out = malloc(outlen + 1);
	assert(file_normalize((const char *)data, len, out, outlen + 1) == 0);
	assert(strcmp(out, ref) == 0);
	free(out);
	out = malloc(outlen);
	assert(file_normalize((const char *)data, len, out, outlen) ==
	    HTTP_NOT_FOUND);
	free(out);
	assert(file_normalize((const char *)data, len, NULL, 0) ==
	    HTTP_NOT_FOUND);
	free(ref);
	return 0;
}
