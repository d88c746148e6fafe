#pragma once
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

/* Enqueue one message with rd_kafka_produceva. The value union of rd_kafka_vu_t is awkward to
 * build from Swift, so it is filled here. On success librdkafka owns `headers`; on error the
 * caller still owns them. The payload and key are copied (RD_KAFKA_MSG_F_COPY). */
static inline rd_kafka_error_t *chirp_produce(rd_kafka_t *rk, const char *topic, int32_t partition,
                                              const void *key, size_t key_len,
                                              const void *value, size_t value_len,
                                              rd_kafka_headers_t *headers, void *opaque) {
    rd_kafka_vu_t vus[7];
    size_t n = 0;
    vus[n].vtype = RD_KAFKA_VTYPE_TOPIC;     vus[n++].u.cstr = topic;
    vus[n].vtype = RD_KAFKA_VTYPE_PARTITION; vus[n++].u.i32 = partition;
    vus[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;  vus[n++].u.i = RD_KAFKA_MSG_F_COPY;
    vus[n].vtype = RD_KAFKA_VTYPE_VALUE;     vus[n].u.mem.ptr = (void *)value; vus[n++].u.mem.size = value_len;
    if (key != NULL) {
        vus[n].vtype = RD_KAFKA_VTYPE_KEY; vus[n].u.mem.ptr = (void *)key; vus[n++].u.mem.size = key_len;
    }
    if (headers != NULL) {
        vus[n].vtype = RD_KAFKA_VTYPE_HEADERS; vus[n++].u.headers = headers;
    }
    vus[n].vtype = RD_KAFKA_VTYPE_OPAQUE; vus[n++].u.ptr = opaque;
    return rd_kafka_produceva(rk, vus, n);
}
