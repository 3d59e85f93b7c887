/* Preloaded into poppler's pdfsig 22.x for the recipients' tests (tests/test_recipients.py).
 *
 * poppler up to 22.12 (Debian 12's) asks NSS's CERT_PKIXVerifyCert whether a signer's
 * certificate is trusted, ignores the answer and reads PORT_GetError() instead. With
 * NSS 3.87 a successful verification leaves a stale SEC_ERROR_EXTENSION_NOT_FOUND
 * (-8157) there, so pdfsig prints "Unknown issue with Certificate or corrupted data"
 * for every certificate, even one it has just signed with itself. Later poppler reads
 * the error only when the call failed; this wrapper does the same, and nothing else:
 * NSS still builds and checks the chain, and a failure keeps its own error code.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>

typedef int SECStatus; /* SECSuccess is 0 */
typedef SECStatus (*verify_fn)(void *cert, int64_t usages, void *in, void *out, void *wincx);

extern void PR_SetError(int32_t code, int32_t os_error);

SECStatus CERT_PKIXVerifyCert(void *cert, int64_t usages, void *in, void *out, void *wincx)
{
    static verify_fn real;
    if (!real)
        real = (verify_fn)dlsym(RTLD_NEXT, "CERT_PKIXVerifyCert");
    SECStatus status = real(cert, usages, in, out, wincx);
    if (status == 0)
        PR_SetError(0, 0);
    return status;
}
