// curl-loop: the transport's floor for `make bench`. One libcurl easy handle, reused,
// makes the same authenticated GET again and again, keeping each body as sonde does;
// prints microseconds per request. Usage: curl-loop URL TOKEN COUNT
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct buffer {
    char *data;
    size_t size;
    size_t capacity;
};

static size_t keep(char *bytes, size_t size, size_t count, void *context) {
    struct buffer *body = context;
    size_t length = size * count;
    if (body->size + length > body->capacity) {
        size_t capacity = body->capacity ? body->capacity : 4096;
        while (capacity < body->size + length) capacity *= 2;
        char *grown = realloc(body->data, capacity);
        if (!grown) return 0;
        body->data = grown;
        body->capacity = capacity;
    }
    memcpy(body->data + body->size, bytes, length);
    body->size += length;
    return length;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: curl-loop URL TOKEN COUNT\n");
        return 2;
    }
    long count = atol(argv[3]);
    char authorization[4096];
    snprintf(authorization, sizeof authorization, "Authorization: Bearer %s", argv[2]);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *curl = curl_easy_init();
    struct curl_slist *headers = curl_slist_append(NULL, authorization);
    headers = curl_slist_append(headers, "Accept: application/json");
    struct buffer body = {0};
    int failures = 0;
    double start = 0;
    // One request first to connect, so the loop measures requests on a kept-alive connection, as wrk does.
    for (long i = -1; i < count; i++) {
        if (i == 0) start = now();
        body.size = 0;
        curl_easy_setopt(curl, CURLOPT_URL, argv[1]);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, keep);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
        long status = 0;
        if (curl_easy_perform(curl) != CURLE_OK) failures++;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        if (status != 200) failures++;
    }
    double elapsed = now() - start;
    printf("%.2f\n", elapsed * 1e6 / count);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    free(body.data);
    curl_global_cleanup();
    return failures ? 1 : 0;
}
