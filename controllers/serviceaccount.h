/* serviceaccount.h — the ServiceAccounts controller, as Kubernetes'
 * serviceaccount-controller: every namespace that is not being deleted
 * has a ServiceAccount "default", made again when deleted. */
#ifndef ORC_CONTROLLERS_SERVICEACCOUNT_H
#define ORC_CONTROLLERS_SERVICEACCOUNT_H

#include "controllers/ctl.h"

#define SA_DEFAULT "default"

extern const struct ctl_controller ctl_serviceaccount;

#endif
