#ifndef SONDE_CCURL_H
#define SONDE_CCURL_H

#include <curl/curl.h>

// curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call:
// these typed wrappers are the whole of the shim.

static inline CURLcode sonde_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode sonde_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode sonde_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode sonde_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode sonde_curl_setopt_off(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

typedef size_t (*sonde_curl_write_callback)(char *data, size_t size, size_t count, void *context);

static inline CURLcode sonde_curl_setopt_write_function(CURL *handle, CURLoption option, sonde_curl_write_callback callback) {
    return curl_easy_setopt(handle, option, callback);
}

typedef int (*sonde_curl_debug_callback)(CURL *handle, curl_infotype type, char *data, size_t size, void *context);

static inline CURLcode sonde_curl_setopt_debug_function(CURL *handle, sonde_curl_debug_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_DEBUGFUNCTION, callback);
}

static inline CURLSHcode sonde_curl_share_setopt_long(CURLSH *share, CURLSHoption option, long value) {
    return curl_share_setopt(share, option, value);
}

static inline CURLcode sonde_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode sonde_curl_getinfo_off(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode sonde_curl_getinfo_string(CURL *handle, CURLINFO info, char **value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode sonde_curl_getinfo_slist(CURL *handle, CURLINFO info, struct curl_slist **value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode sonde_curl_getinfo_certinfo(CURL *handle, CURLINFO info, struct curl_certinfo **value) {
    return curl_easy_getinfo(handle, info, value);
}

/// CURLAUTH_* are unsigned long macros.
static const unsigned long SONDE_CURLAUTH_DIGEST = CURLAUTH_DIGEST;
static const unsigned long SONDE_CURLAUTH_NTLM = CURLAUTH_NTLM;

static inline CURLcode sonde_curl_setopt_ulong(CURL *handle, CURLoption option, unsigned long value) {
    return curl_easy_setopt(handle, option, value);
}

/// CURLVERSION_NOW is a macro Swift cannot read.
static inline curl_version_info_data *sonde_curl_version_info(void) {
    return curl_version_info(CURLVERSION_NOW);
}

#endif
