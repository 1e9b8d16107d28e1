#include "CurlShim.h"

CURLcode sluice_curl_setopt_long(CURL *handle, CURLoption option, long value) { return curl_easy_setopt(handle, option, value); }
CURLcode sluice_curl_setopt_pointer(CURL *handle, CURLoption option, const void *value) { return curl_easy_setopt(handle, option, value); }
CURLcode sluice_curl_setopt_off(CURL *handle, CURLoption option, curl_off_t value) { return curl_easy_setopt(handle, option, value); }
CURLcode sluice_curl_setopt_callback(CURL *handle, CURLoption option, sluice_curl_data_callback callback) { return curl_easy_setopt(handle, option, callback); }
CURLcode sluice_curl_setopt_open_socket(CURL *handle, sluice_curl_open_socket_callback callback, void *context) {
    CURLcode code = curl_easy_setopt(handle, CURLOPT_OPENSOCKETFUNCTION, callback);
    return code != CURLE_OK ? code : curl_easy_setopt(handle, CURLOPT_OPENSOCKETDATA, context);
}
CURLcode sluice_curl_setopt_close_socket(CURL *handle, sluice_curl_close_socket_callback callback, void *context) {
    CURLcode code = curl_easy_setopt(handle, CURLOPT_CLOSESOCKETFUNCTION, callback);
    return code != CURLE_OK ? code : curl_easy_setopt(handle, CURLOPT_CLOSESOCKETDATA, context);
}
CURLcode sluice_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) { return curl_easy_getinfo(handle, info, value); }
CURLcode sluice_curl_getinfo_pointer(CURL *handle, CURLINFO info, void **value) { return curl_easy_getinfo(handle, info, value); }
CURLMcode sluice_curl_multi_setopt_long(CURLM *multi, CURLMoption option, long value) { return curl_multi_setopt(multi, option, value); }
CURLMcode sluice_curl_multi_setopt_pointer(CURLM *multi, CURLMoption option, void *value) { return curl_multi_setopt(multi, option, value); }
CURLMcode sluice_curl_multi_setopt_socket_callback(CURLM *multi, sluice_curl_socket_callback callback) { return curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, callback); }
CURLMcode sluice_curl_multi_setopt_timer_callback(CURLM *multi, sluice_curl_timer_callback callback) { return curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, callback); }
int sluice_curl_msg_is_done(const CURLMsg *message) { return message->msg == CURLMSG_DONE; }
CURLcode sluice_curl_msg_result(const CURLMsg *message) { return message->data.result; }

int sluice_curl_multi_next_done(CURLM *multi, CURL **easy, CURLcode *result) {
    int remaining = 0;
    CURLMsg *message;
    while ((message = curl_multi_info_read(multi, &remaining)) != NULL) {
        if (message->msg != CURLMSG_DONE) continue;
        *easy = message->easy_handle;
        *result = message->data.result;
        return 1;
    }
    return 0;
}
