/* storageclass.c — the StorageClass every orc cluster starts with. */
#include "lib/storageclass.h"

json_t *orc_storage_class_default_new(void)
{
    return json_pack("{s:s, s:s, s:{s:s, s:{s:s}}, s:s, s:s, s:s, s:b}", "apiVersion",
                     "storage.k8s.io/v1", "kind", "StorageClass", "metadata", "name",
                     ORC_SC_DEFAULT, "annotations", ORC_SC_ANN_DEFAULT, "true", "provisioner",
                     ORC_SC_PROVISIONER, "reclaimPolicy", "Delete", "volumeBindingMode",
                     "WaitForFirstConsumer", "allowVolumeExpansion", 0);
}
