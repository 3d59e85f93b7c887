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
 * KYSO_SLOW_UNPLUGGED=/path/to/flag unplugs the device while that file exists, and plugs
 * it back when the file is deleted (a USB token pulled out and put back, a network HSM
 * whose connection dropped and returned). While unplugged: C_GetSlotList with
 * tokenPresent lists no slot, C_GetSlotInfo clears CKF_TOKEN_PRESENT, C_GetTokenInfo,
 * C_GetMechanism* and C_OpenSession answer CKR_TOKEN_NOT_PRESENT, and every call on a
 * session (C_Login, C_FindObjects*, C_GetAttributeValue, C_Sign*, ...) answers
 * CKR_DEVICE_REMOVED. The sessions opened through this wrapper are closed in the forwarded
 * module the moment the unplug is seen (which also ends their login), so after the
 * device is back their handles answer CKR_SESSION_HANDLE_INVALID: a caller has to open a
 * new session and log in again, as with a real token. Sessions other loaders opened on
 * the forwarded module directly are left alone.
 *
 *   gcc -shared -fPIC -I/usr/include/p11-kit-1 -o slowtoken.so slowtoken.c -ldl -lpthread
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <p11-kit/pkcs11.h>

#define DEFAULT_DELAY_MS 300
#define MAX_TRACKED 1024

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

/* ---- the unplug flag file and the sessions opened through this wrapper ---------------- */

enum { FREE = 0, LIVE = 1, STALE = 2 };

static struct {
    CK_SESSION_HANDLE handle;
    int state;
} tracked[MAX_TRACKED];
static pthread_mutex_t tracking = PTHREAD_MUTEX_INITIALIZER;
static int seen_unplugged = 0;

static int flag_file_exists(void) {
    const char *path = getenv("KYSO_SLOW_UNPLUGGED");
    return path && *path && access(path, F_OK) == 0;
}

/* Whether the device is unplugged now; the first call that sees it so closes our sessions. */
static int unplugged(void) {
    int out = flag_file_exists();
    pthread_mutex_lock(&tracking);
    if (out && !seen_unplugged) {
        for (int i = 0; i < MAX_TRACKED; i++) {
            if (tracked[i].state == LIVE) {
                real.C_CloseSession(tracked[i].handle);
                tracked[i].state = STALE;
            }
        }
    }
    seen_unplugged = out;
    pthread_mutex_unlock(&tracking);
    return out;
}

static void track_open(CK_SESSION_HANDLE handle) {
    pthread_mutex_lock(&tracking);
    int slot = -1;
    for (int i = 0; i < MAX_TRACKED; i++) {
        if (tracked[i].state != FREE && tracked[i].handle == handle) {
            slot = i;  /* the forwarded module reused a handle that went stale */
            break;
        }
        if (slot < 0 && tracked[i].state == FREE) slot = i;
    }
    if (slot >= 0) {
        tracked[slot].handle = handle;
        tracked[slot].state = LIVE;
    }
    pthread_mutex_unlock(&tracking);
}

/* The state of ``handle`` (FREE when not tracked); ``forget`` drops it from the table. */
static int session_state(CK_SESSION_HANDLE handle, int forget) {
    int state = FREE;
    pthread_mutex_lock(&tracking);
    for (int i = 0; i < MAX_TRACKED; i++) {
        if (tracked[i].state != FREE && tracked[i].handle == handle) {
            state = tracked[i].state;
            if (forget) tracked[i].state = FREE;
            break;
        }
    }
    pthread_mutex_unlock(&tracking);
    return state;
}

/* CKR_OK when a call on ``session`` may be forwarded, else what a pulled token answers. */
static CK_RV session_check(CK_SESSION_HANDLE session) {
    if (unplugged()) return CKR_DEVICE_REMOVED;
    if (session_state(session, 0) == STALE) return CKR_SESSION_HANDLE_INVALID;
    return CKR_OK;
}

#define CHECK_SESSION(session)                  \
    do {                                        \
        CK_RV checked = session_check(session); \
        if (checked != CKR_OK) return checked;  \
    } while (0)

#define CHECK_TOKEN()                                  \
    do {                                               \
        if (unplugged()) return CKR_TOKEN_NOT_PRESENT; \
    } while (0)

/* ---- module and slots ---------------------------------------------------------------- */

static CK_RV shim_initialize(CK_VOID_PTR args) {
    CK_RV rv = real.C_Initialize(args);
    return rv == CKR_CRYPTOKI_ALREADY_INITIALIZED ? CKR_OK : rv;
}

static CK_RV shim_finalize(CK_VOID_PTR reserved) {
    (void)reserved;  /* the forwarded module may be shared with another loader */
    return CKR_OK;
}

static CK_RV shim_get_slot_list(CK_BBOOL token_present, CK_SLOT_ID_PTR list,
                                CK_ULONG_PTR count) {
    if (token_present && unplugged()) {
        if (count == NULL) return CKR_ARGUMENTS_BAD;
        *count = 0;
        return CKR_OK;
    }
    return real.C_GetSlotList(token_present, list, count);
}

static CK_RV shim_get_slot_info(CK_SLOT_ID slot, CK_SLOT_INFO_PTR info) {
    CK_RV rv = real.C_GetSlotInfo(slot, info);
    if (rv == CKR_OK && unplugged()) info->flags &= ~(CK_FLAGS)CKF_TOKEN_PRESENT;
    return rv;
}

static CK_RV shim_get_token_info(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info) {
    CHECK_TOKEN();
    return real.C_GetTokenInfo(slot, info);
}

static CK_RV shim_get_mechanism_list(CK_SLOT_ID slot, CK_MECHANISM_TYPE_PTR list,
                                     CK_ULONG_PTR count) {
    CHECK_TOKEN();
    return real.C_GetMechanismList(slot, list, count);
}

static CK_RV shim_get_mechanism_info(CK_SLOT_ID slot, CK_MECHANISM_TYPE type,
                                     CK_MECHANISM_INFO_PTR info) {
    CHECK_TOKEN();
    return real.C_GetMechanismInfo(slot, type, info);
}

/* ---- sessions ------------------------------------------------------------------------ */

static CK_RV shim_open_session(CK_SLOT_ID slot, CK_FLAGS flags, CK_VOID_PTR application,
                               CK_NOTIFY notify, CK_SESSION_HANDLE_PTR session) {
    CHECK_TOKEN();
    CK_RV rv = real.C_OpenSession(slot, flags, application, notify, session);
    if (rv == CKR_OK) track_open(*session);
    return rv;
}

static CK_RV shim_close_session(CK_SESSION_HANDLE session) {
    unplugged();  /* an unplug not seen yet turns this session stale first */
    if (session_state(session, 1) == STALE) return CKR_SESSION_HANDLE_INVALID;
    return real.C_CloseSession(session);
}

static CK_RV shim_get_session_info(CK_SESSION_HANDLE session, CK_SESSION_INFO_PTR info) {
    CHECK_SESSION(session);
    return real.C_GetSessionInfo(session, info);
}

static CK_RV shim_login(CK_SESSION_HANDLE session, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin,
                        CK_ULONG pin_len) {
    CHECK_SESSION(session);
    return real.C_Login(session, user, pin, pin_len);
}

static CK_RV shim_logout(CK_SESSION_HANDLE session) {
    CHECK_SESSION(session);
    return real.C_Logout(session);
}

static CK_RV shim_get_attribute_value(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object,
                                      CK_ATTRIBUTE_PTR template, CK_ULONG count) {
    CHECK_SESSION(session);
    return real.C_GetAttributeValue(session, object, template, count);
}

static CK_RV shim_find_objects_init(CK_SESSION_HANDLE session, CK_ATTRIBUTE_PTR template,
                                    CK_ULONG count) {
    CHECK_SESSION(session);
    return real.C_FindObjectsInit(session, template, count);
}

static CK_RV shim_find_objects(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE_PTR objects,
                               CK_ULONG max_count, CK_ULONG_PTR count) {
    CHECK_SESSION(session);
    return real.C_FindObjects(session, objects, max_count, count);
}

static CK_RV shim_find_objects_final(CK_SESSION_HANDLE session) {
    CHECK_SESSION(session);
    return real.C_FindObjectsFinal(session);
}

static CK_RV shim_sign_init(CK_SESSION_HANDLE session, CK_MECHANISM_PTR mechanism,
                            CK_OBJECT_HANDLE key) {
    CHECK_SESSION(session);
    return real.C_SignInit(session, mechanism, key);
}

static CK_RV shim_sign_update(CK_SESSION_HANDLE session, CK_BYTE_PTR part, CK_ULONG len) {
    CHECK_SESSION(session);
    return real.C_SignUpdate(session, part, len);
}

static CK_RV shim_digest_init(CK_SESSION_HANDLE session, CK_MECHANISM_PTR mechanism) {
    CHECK_SESSION(session);
    return real.C_DigestInit(session, mechanism);
}

static CK_RV shim_digest(CK_SESSION_HANDLE session, CK_BYTE_PTR data, CK_ULONG data_len,
                         CK_BYTE_PTR digest, CK_ULONG_PTR digest_len) {
    CHECK_SESSION(session);
    return real.C_Digest(session, data, data_len, digest, digest_len);
}

static CK_RV shim_verify_init(CK_SESSION_HANDLE session, CK_MECHANISM_PTR mechanism,
                              CK_OBJECT_HANDLE key) {
    CHECK_SESSION(session);
    return real.C_VerifyInit(session, mechanism, key);
}

static CK_RV shim_verify(CK_SESSION_HANDLE session, CK_BYTE_PTR data, CK_ULONG data_len,
                         CK_BYTE_PTR signature, CK_ULONG signature_len) {
    CHECK_SESSION(session);
    return real.C_Verify(session, data, data_len, signature, signature_len);
}

static CK_RV shim_generate_random(CK_SESSION_HANDLE session, CK_BYTE_PTR data, CK_ULONG len) {
    CHECK_SESSION(session);
    return real.C_GenerateRandom(session, data, len);
}

/* ---- signatures: slow, and pulled out after KYSO_SLOW_REMOVE_AFTER of them ----------- */

static long signatures_made = 0;

static int token_pulled_out(void) {
    const char *text = getenv("KYSO_SLOW_REMOVE_AFTER");
    return text && *text && signatures_made >= strtol(text, NULL, 10);
}

static CK_RV shim_sign(CK_SESSION_HANDLE session, CK_BYTE_PTR data, CK_ULONG data_len,
                       CK_BYTE_PTR signature, CK_ULONG_PTR signature_len) {
    CHECK_SESSION(session);
    if (signature == NULL) return real.C_Sign(session, data, data_len, signature, signature_len);
    if (token_pulled_out()) return CKR_DEVICE_REMOVED;
    token_delay();
    CHECK_SESSION(session);  /* pulled out during the operation */
    CK_RV rv = real.C_Sign(session, data, data_len, signature, signature_len);
    if (rv == CKR_OK) signatures_made++;
    return rv;
}

static CK_RV shim_sign_final(CK_SESSION_HANDLE session, CK_BYTE_PTR signature,
                             CK_ULONG_PTR signature_len) {
    CHECK_SESSION(session);
    if (signature == NULL) return real.C_SignFinal(session, signature, signature_len);
    if (token_pulled_out()) return CKR_DEVICE_REMOVED;
    token_delay();
    CHECK_SESSION(session);
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
        shim.C_GetSlotList = shim_get_slot_list;
        shim.C_GetSlotInfo = shim_get_slot_info;
        shim.C_GetTokenInfo = shim_get_token_info;
        shim.C_GetMechanismList = shim_get_mechanism_list;
        shim.C_GetMechanismInfo = shim_get_mechanism_info;
        shim.C_OpenSession = shim_open_session;
        shim.C_CloseSession = shim_close_session;
        shim.C_GetSessionInfo = shim_get_session_info;
        shim.C_Login = shim_login;
        shim.C_Logout = shim_logout;
        shim.C_GetAttributeValue = shim_get_attribute_value;
        shim.C_FindObjectsInit = shim_find_objects_init;
        shim.C_FindObjects = shim_find_objects;
        shim.C_FindObjectsFinal = shim_find_objects_final;
        shim.C_SignInit = shim_sign_init;
        shim.C_SignUpdate = shim_sign_update;
        shim.C_DigestInit = shim_digest_init;
        shim.C_Digest = shim_digest;
        shim.C_VerifyInit = shim_verify_init;
        shim.C_Verify = shim_verify;
        shim.C_GenerateRandom = shim_generate_random;
        shim.C_Sign = shim_sign;
        shim.C_SignFinal = shim_sign_final;
        loaded = 1;
    }
    *list = &shim;
    return CKR_OK;
}
