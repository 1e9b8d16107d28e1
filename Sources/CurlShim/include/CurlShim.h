#ifndef SLUICE_CURL_SHIM_H
#define SLUICE_CURL_SHIM_H
#include <curl/curl.h>
/// Glibc's Swift module leaves these out; the I/O thread polls with epoll and wakes on an eventfd.
#include <sys/epoll.h>
#include <sys/eventfd.h>

/// Typed, non-variadic wrappers of curl's variadic calls, which Swift cannot call directly.
typedef size_t (*sluice_curl_data_callback)(char *data, size_t size, size_t count, void *context);
/// CURLMOPT_SOCKETFUNCTION: curl says which events it wants on a socket (CURL_POLL_*).
typedef int (*sluice_curl_socket_callback)(CURL *easy, curl_socket_t socket, int what, void *context, void *socketContext);
/// CURLMOPT_TIMERFUNCTION: curl asks to be called back after `timeout_ms` (-1: no timer).
typedef int (*sluice_curl_timer_callback)(CURLM *multi, long timeout_ms, void *context);

/// CURLOPT_OPENSOCKETFUNCTION / CURLOPT_CLOSESOCKETFUNCTION: curl's sockets are made and closed through us.
typedef curl_socket_t (*sluice_curl_open_socket_callback)(void *context, curlsocktype purpose, struct curl_sockaddr *address);
typedef int (*sluice_curl_close_socket_callback)(void *context, curl_socket_t socket);

CURLcode sluice_curl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode sluice_curl_setopt_pointer(CURL *handle, CURLoption option, const void *value);
CURLcode sluice_curl_setopt_off(CURL *handle, CURLoption option, curl_off_t value);
CURLcode sluice_curl_setopt_callback(CURL *handle, CURLoption option, sluice_curl_data_callback callback);
CURLcode sluice_curl_setopt_open_socket(CURL *handle, sluice_curl_open_socket_callback callback, void *context);
CURLcode sluice_curl_setopt_close_socket(CURL *handle, sluice_curl_close_socket_callback callback, void *context);
CURLcode sluice_curl_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode sluice_curl_getinfo_pointer(CURL *handle, CURLINFO info, void **value);
CURLMcode sluice_curl_multi_setopt_long(CURLM *multi, CURLMoption option, long value);
CURLMcode sluice_curl_multi_setopt_pointer(CURLM *multi, CURLMoption option, void *value);
CURLMcode sluice_curl_multi_setopt_socket_callback(CURLM *multi, sluice_curl_socket_callback callback);
CURLMcode sluice_curl_multi_setopt_timer_callback(CURLM *multi, sluice_curl_timer_callback callback);
/// CURLMsg's `data` is a union; these read it without Swift's union import.
int sluice_curl_msg_is_done(const CURLMsg *message);
CURLcode sluice_curl_msg_result(const CURLMsg *message);
/// The next finished transfer, if any: its easy handle and result. Returns 0 when none is left.
int sluice_curl_multi_next_done(CURLM *multi, CURL **easy, CURLcode *result);

#endif
