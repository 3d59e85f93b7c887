/*
 * A PKCS#11 module that forwards to another one (SoftHSM by default) and makes every
 * signature as slow as a real USB token's: C_Sign and C_SignFinal sleep
 * KYSO_SLOW_SIGN_MS milliseconds (default 300) before forwarding. Real smart-card
 * tokens take 100-700 ms per signature; SoftHSM takes well under one.
 *
 * Test and benchmark support only. KYSO_SLOW_MODULE names the module to forward to.
 * The delay is read on every call, so one process can change it between signatures;
 * a size query (NULL signature buffer) is not delayed, as a token answers it at once.
 * KYSO_SLOW_REMOVE_AFTER=N pulls the token out after N signatures: from then on every
 * signature fails with CKR_DEVICE_REMOVED, as a real token yanked from its USB port.
 *
 *   gcc -shared -fPIC -I/usr/include/p11-kit-1 -o slowtoken.so slowtoken.c -ldl
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <p11-kit/pkcs11.h>

#define DEFAULT_DELAY_MS 300

static CK_FUNCTION_LIST real;
static CK_FUNCTION_LIST shim;
static int loaded = 0;

static void token_delay(void) {
    const char *text = getenv("KYSO_SLOW_SIGN_MS");
    long ms = text && *text ? strtol(text, NULL, 10) : DEFAULT_DELAY_MS;
    if (ms <= 0) return;
    struct timespec left = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&left, &left) == -1 && errno == EINTR) {
    }
}

static CK_RV shim_initialize(CK_VOID_PTR args) {
    CK_RV rv = real.C_Initialize(args);
    return rv == CKR_CRYPTOKI_ALREADY_INITIALIZED ? CKR_OK : rv;
}

static CK_RV shim_finalize(CK_VOID_PTR reserved) {
    (void)reserved;  /* the forwarded module may be shared with another loader */
    return CKR_OK;
}

static long signatures_made = 0;

static int token_pulled_out(void) {
    const char *text = getenv("KYSO_SLOW_REMOVE_AFTER");
    return text && *text && signatures_made >= strtol(text, NULL, 10);
}

static CK_RV shim_sign(CK_SESSION_HANDLE session, CK_BYTE_PTR data, CK_ULONG data_len,
                       CK_BYTE_PTR signature, CK_ULONG_PTR signature_len) {
    if (signature == NULL) return real.C_Sign(session, data, data_len, signature, signature_len);
    if (token_pulled_out()) return CKR_DEVICE_REMOVED;
    token_delay();
    CK_RV rv = real.C_Sign(session, data, data_len, signature, signature_len);
    if (rv == CKR_OK) signatures_made++;
    return rv;
}

static CK_RV shim_sign_final(CK_SESSION_HANDLE session, CK_BYTE_PTR signature,
                             CK_ULONG_PTR signature_len) {
    if (signature == NULL) return real.C_SignFinal(session, signature, signature_len);
    if (token_pulled_out()) return CKR_DEVICE_REMOVED;
    token_delay();
    CK_RV rv = real.C_SignFinal(session, signature, signature_len);
    if (rv == CKR_OK) signatures_made++;
    return rv;
}

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list) {
    if (!loaded) {
        const char *target = getenv("KYSO_SLOW_MODULE");
        void *handle = dlopen(target ? target : "/usr/lib/softhsm/libsofthsm2.so",
                              RTLD_NOW | RTLD_LOCAL);
        if (!handle) return CKR_GENERAL_ERROR;
        CK_C_GetFunctionList get = (CK_C_GetFunctionList)dlsym(handle, "C_GetFunctionList");
        CK_FUNCTION_LIST_PTR forwarded = NULL;
        if (!get || get(&forwarded) != CKR_OK) return CKR_GENERAL_ERROR;
        real = *forwarded;
        shim = real;
        shim.C_Initialize = shim_initialize;
        shim.C_Finalize = shim_finalize;
        shim.C_Sign = shim_sign;
        shim.C_SignFinal = shim_sign_final;
        loaded = 1;
    }
    *list = &shim;
    return CKR_OK;
}
