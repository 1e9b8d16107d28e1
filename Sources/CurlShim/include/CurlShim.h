#ifndef SLUICE_CURL_SHIM_H
#define SLUICE_CURL_SHIM_H
#include <curl/curl.h>

/// Typed, non-variadic wrappers of curl's variadic calls, which Swift cannot call directly.
typedef size_t (*sluice_curl_data_callback)(char *data, size_t size, size_t count, void *context);

CURLcode sluice_curl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode sluice_curl_setopt_pointer(CURL *handle, CURLoption option, const void *value);
CURLcode sluice_curl_setopt_off(CURL *handle, CURLoption option, curl_off_t value);
CURLcode sluice_curl_setopt_callback(CURL *handle, CURLoption option, sluice_curl_data_callback callback);
CURLcode sluice_curl_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode sluice_curl_getinfo_pointer(CURL *handle, CURLINFO info, void **value);
CURLMcode sluice_curl_multi_setopt_long(CURLM *multi, CURLMoption option, long value);
/// CURLMsg's `data` is a union; these read it without Swift's union import.
int sluice_curl_msg_is_done(const CURLMsg *message);
CURLcode sluice_curl_msg_result(const CURLMsg *message);

#endif
