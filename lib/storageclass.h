/* storageclass.h — the StorageClass every orc cluster starts with, shared
 * by the API server's bootstrap (which creates it) and the volume
 * controller (which provisions for it). */
#ifndef ORC_LIB_STORAGECLASS_H
#define ORC_LIB_STORAGECLASS_H

#include <jansson.h>

#define ORC_SC_ANN_DEFAULT "storageclass.kubernetes.io/is-default-class"
#define ORC_SC_PROVISIONER "rancher.io/local-path"
#define ORC_SC_DEFAULT "local-path"

/* `local-path` as k3s has it: rancher.io/local-path, WaitForFirstConsumer,
 * reclaimPolicy Delete, the default class. A new object (NULL: no memory). */
json_t *orc_storage_class_default_new(void);

#endif
