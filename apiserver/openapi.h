/* openapi.h — private to apiserver/: the OpenAPI documents (v2 and v3)
 * generated from the schema tables (schema*.c) and lib/kinds, so that what
 * kubectl reads (field validation support, explain, strategic merge patch
 * keys) is what the server checks. Built once, served as cached bytes with
 * an ETag. Nothing here is thread-safe; the API server's loop owns it. */
#ifndef ORC_API_OPENAPI_H
#define ORC_API_OPENAPI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "lib/kinds.h"

struct api_struct;

enum api_oa_version { API_OA_V2, API_OA_V3 };

/* ---- schemas (openapi_schema.c) ---- */

/* The component name of every object type reachable from a kind's root
 * ("io.k8s.api.core.v1.PodSpec"), assigned once over the whole kind table
 * so that every document names a type alike. */
struct api_oa_types;

int api_oa_types_new(struct api_oa_types **out);
void api_oa_types_free(struct api_oa_types *t);

/* What a document is being built with: `defs` (borrowed) is its
 * components.schemas (v3) or definitions (v2) object, filled as types are
 * referenced. */
struct api_oa_ctx {
    const struct api_oa_types *types;
    enum api_oa_version version;
    json_t *defs;
    int err; /* first failure (ORC_ENOMEM), sticky */
};

/* A {"$ref": ...} to the kind's root type (or its list type), adding it and
 * everything it references to ctx->defs. New reference; NULL on failure
 * (ctx->err set). */
json_t *api_oa_kind_ref(struct api_oa_ctx *ctx, const struct orc_kind *k, bool list);
/* The same for a fixed type of Kubernetes' own ("io.k8s.apimachinery.pkg.
 * apis.meta.v1.Status", "io.k8s.api.autoscaling.v1.Scale"). */
json_t *api_oa_fixed_ref(struct api_oa_ctx *ctx, const char *name);

/* ---- descriptions (openapi_docs.c) ---- */

/* A kind's or type's description ("Pod", "PodSpec"), or NULL. Static. */
const char *api_oa_type_doc(const char *name);
/* The description of a field every object shares (apiVersion, kind,
 * metadata; spec and status of a kind's root), or NULL. Static. */
const char *api_oa_field_doc(const char *name, bool root);

/* ---- paths (openapi_paths.c) ---- */

/* Adds the kind's paths (collection, object, all namespaces, status and
 * scale subresources) and their operations to `paths`. */
void api_oa_add_paths(struct api_oa_ctx *ctx, const struct orc_kind *k, json_t *paths);

/* ---- the v2 document as protobuf (openapi_pb.c) ---- */

/* Appends gnostic's openapi.v2 Document encoding of the v2 JSON document
 * `doc` (what kube-openapi's proto models read). 0 or ORC_ENOMEM. */
int api_oa_v2_protobuf(const json_t *doc, struct orc_buf *out);

/* ---- documents (openapi.c) ---- */

struct api_openapi;

/* Builds every document. 0 or ORC_ENOMEM. */
int api_openapi_build(struct api_openapi **out);
void api_openapi_free(struct api_openapi *o);

/* A document's bytes and ETag (sha512, hex): `gv` NULL for the v2 document
 * (v2) or the v3 root listing (v3), else "api/v1" or "apis/apps/v1";
 * `protobuf` for the v2 document's protobuf form. Pointers stay valid
 * while o lives. ORC_ENOENT for an unknown group. */
int api_openapi_doc(const struct api_openapi *o, enum api_oa_version v, const char *gv,
                    bool protobuf, const char **data, size_t *len, const char **etag);

#endif
