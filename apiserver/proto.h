/* proto.h — request bodies in Kubernetes' protobuf encoding
 * (application/vnd.kubernetes.protobuf), which client-go's typed clients
 * send: the "k8s\0" envelope (a runtime.Unknown) and the object inside it,
 * decoded by field-number tables (proto_*.c) into the JSON object the rest
 * of the write path takes. Internal to apiserver/. */
#ifndef ORC_API_PROTO_H
#define ORC_API_PROTO_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* What a field holds; the JSON it becomes. */
enum api_pb_kind {
    PB_STR = 1, /* string */
    PB_BYTES,   /* bytes: a base64 string, as encoding/json writes []byte */
    PB_INT,     /* int32/int64 varint: a number */
    PB_BOOL,
    PB_MSG,     /* a message: an object of `msg`'s fields */
    PB_INLINE,  /* an embedded Go struct: `msg`'s fields land in this object */
    PB_MAP,     /* map<string, item>: an object */
    PB_QTY,     /* resource.Quantity {string(1)}: "500m" */
    PB_TIME,    /* metav1.Time {seconds(1), nanos(2)}: RFC 3339; empty: absent */
    PB_MTIME,   /* metav1.MicroTime: RFC 3339 with microseconds */
    PB_INTSTR,  /* intstr.IntOrString {type(1), intVal(2), strVal(3)}: 80 or "http" */
    PB_FIELDS,  /* metav1.FieldsV1, runtime.RawExtension {raw(1)}: the JSON document raw holds */
};

/* Go writes every non-pointer field, zero or not; a zero scalar is left out
 * (as `omitempty` leaves it out of JSON) unless the field has PB_KEEP: a
 * pointer, whose presence means something (replicas: 0), or a field JSON
 * always carries (PriorityClass.value). */
#define PB_REP 1u  /* repeated: a JSON array (packed or not for numbers) */
#define PB_KEEP 2u /* a zero value sent is kept */

struct api_pb_msg;

struct api_pb_field {
    uint32_t num;
    const char *name;            /* JSON name; NULL for PB_INLINE */
    unsigned char kind;          /* api_pb_kind */
    unsigned char flags;         /* PB_REP, PB_KEEP */
    unsigned char item;          /* PB_MAP: the value's kind (PB_STR, PB_BYTES, PB_QTY, PB_TIME) */
    const struct api_pb_msg *msg; /* PB_MSG, PB_INLINE */
};

/* A message type: its generated.proto name (the api_struct name where orc
 * has one) and its fields, ending with num 0. */
struct api_pb_msg {
    const char *name;
    const struct api_pb_field *fields;
};

/* A top-level type: the envelope's apiVersion (NULL: any, for
 * DeleteOptions, which every group version carries) and kind. */
struct api_pb_root {
    const char *api_version;
    const char *kind;
    const struct api_pb_msg *msg;
};

/* The roots orc decodes (proto_kinds.c); ends with kind NULL. */
extern const struct api_pb_root api_pb_roots[];

const struct api_pb_msg *api_pb_root_msg(const char *api_version, const char *kind);

/* How deep messages may nest (PodTemplate in a JobTemplate in a CronJob is
 * about 12); deeper input is refused, so recursion stays bounded. */
#define API_PB_MAX_DEPTH 32

/* Decodes a whole body ("k8s\0" + runtime.Unknown). 0 and *out (a new
 * object with apiVersion and kind set; the caller owns it), or a negative
 * ORC_E* with *status (400: malformed; 415: a type or field orc has no
 * table for, or an encoding it does not read) and a message naming the
 * message type and field number. */
int api_pb_decode_body(const void *body, size_t len, json_t **out, int *status, char *msg,
                       size_t n);

/* Decodes one message of type m into the object `into` (fields are added).
 * Same errors as api_pb_decode_body. */
int api_pb_decode_msg(const struct api_pb_msg *m, const void *data, size_t len, json_t *into,
                      int *status, char *msg, size_t n);

#endif
