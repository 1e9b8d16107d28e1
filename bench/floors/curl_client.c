/*
 * libcurl's own floor for `sluice bench http`: CONCURRENCY easy handles kept on one multi
 * handle, each re-added as soon as its keep-alive GET ends, the body discarded; no Sluice code.
 * Compare with `sluice bench http --client-only` (Sluice's client on the same libcurl) and with
 * wrk against the same URL: what is left between them is the client, not the queue.
 * Usage: curl_client URL [requests] [concurrency]
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include "clocks.h"

static size_t discard(char *data, size_t size, size_t count, void *context) {
    (void)data;
    (void)context;
    return size * count;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s URL [requests] [concurrency]\n", argv[0]);
        return 2;
    }
    const char *url = argv[1];
    int requests = argc > 2 ? atoi(argv[2]) : 200000;
    int concurrency = argc > 3 ? atoi(argv[3]) : 8;
    if (requests <= 0 || concurrency <= 0 || concurrency > 1024) {
        fprintf(stderr, "curl_client: requests > 0, 0 < concurrency <= 1024\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *multi = curl_multi_init();
    CURL **handles = calloc(concurrency, sizeof *handles);
    int issued = 0, finished = 0, failed = 0;
    for (int i = 0; i < concurrency && issued < requests; i++, issued++) {
        handles[i] = curl_easy_init();
        curl_easy_setopt(handles[i], CURLOPT_URL, url);
        curl_easy_setopt(handles[i], CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(handles[i], CURLOPT_NOSIGNAL, 1L);
        curl_multi_add_handle(multi, handles[i]);
    }
    double cpu_start = cpu_seconds(), wall_start = wall_seconds();
    while (finished < requests) {
        int running = 0, queued = 0;
        curl_multi_perform(multi, &running);
        CURLMsg *message;
        while ((message = curl_multi_info_read(multi, &queued)) != NULL) {
            if (message->msg != CURLMSG_DONE) continue;
            CURL *easy = message->easy_handle;
            long status = 0;
            curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
            if (message->data.result != CURLE_OK || status < 200 || status > 299) failed++;
            curl_multi_remove_handle(multi, easy);
            finished++;
            if (issued < requests) {
                curl_multi_add_handle(multi, easy);
                issued++;
            }
        }
        if (finished < requests) curl_multi_poll(multi, NULL, 0, 1000, NULL);
    }
    double cpu = cpu_seconds() - cpu_start, wall = wall_seconds() - wall_start;
    printf("requests=%d concurrency=%d failed=%d curl=%s req_per_s=%.0f cpu_us_per_request=%.1f\n",
           requests, concurrency, failed, curl_version_info(CURLVERSION_NOW)->version, requests / wall, cpu / requests * 1e6);
    for (int i = 0; i < concurrency; i++) {
        if (!handles[i]) continue;
        curl_multi_remove_handle(multi, handles[i]);
        curl_easy_cleanup(handles[i]);
    }
    curl_multi_cleanup(multi);
    free(handles);
    return failed == 0 ? 0 : 1;
}
