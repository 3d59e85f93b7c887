/*
 * A PKCS#11 module that forwards to another one (SoftHSM by default) and adds what
 * real USB tokens have and SoftHSM 2.6 lacks: a user-PIN retry counter that locks the
 * token after three wrong PINs, and the matching CKF_USER_PIN_* token flags.
 *
 * Test support only. The counter lives in the file named by KYSO_PINLOCK_STATE, so
 * it survives between processes like a real token's counter; KYSO_PINLOCK_MODULE
 * names the module to forward to.
 *
 *   gcc -shared -fPIC -I/usr/include/p11-kit-1 -o pinlock.so pinlock.c -ldl
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <p11-kit/pkcs11.h>

#define MAX_TRIES 3

static CK_FUNCTION_LIST real;
static CK_FUNCTION_LIST shim;
static int loaded = 0;

static int read_failures(void) {
    const char *path = getenv("KYSO_PINLOCK_STATE");
    int n = 0;
    FILE *f = path ? fopen(path, "r") : NULL;
    if (f) {
        if (fscanf(f, "%d", &n) != 1) n = 0;
        fclose(f);
    }
    return n;
}

static void write_failures(int n) {
    const char *path = getenv("KYSO_PINLOCK_STATE");
    FILE *f = path ? fopen(path, "w") : NULL;
    if (f) {
        fprintf(f, "%d\n", n);
        fclose(f);
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

static CK_RV shim_login(CK_SESSION_HANDLE session, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin,
                        CK_ULONG len) {
    if (user != CKU_USER) return real.C_Login(session, user, pin, len);
    int failures = read_failures();
    if (failures >= MAX_TRIES) return CKR_PIN_LOCKED;
    CK_RV rv = real.C_Login(session, user, pin, len);
    if (rv == CKR_PIN_INCORRECT) {
        write_failures(failures + 1);
        if (failures + 1 >= MAX_TRIES) return CKR_PIN_LOCKED;
    } else if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN) {
        write_failures(0);
    }
    return rv;
}

static CK_RV shim_get_token_info(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info) {
    CK_RV rv = real.C_GetTokenInfo(slot, info);
    if (rv != CKR_OK) return rv;
    int failures = read_failures();
    info->flags &= ~(CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_LOCKED);
    if (failures >= MAX_TRIES) info->flags |= CKF_USER_PIN_LOCKED;
    else if (failures == MAX_TRIES - 1) info->flags |= CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_COUNT_LOW;
    else if (failures > 0) info->flags |= CKF_USER_PIN_COUNT_LOW;
    return rv;
}

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list) {
    if (!loaded) {
        const char *target = getenv("KYSO_PINLOCK_MODULE");
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
        shim.C_Login = shim_login;
        shim.C_GetTokenInfo = shim_get_token_info;
        loaded = 1;
    }
    *list = &shim;
    return CKR_OK;
}
