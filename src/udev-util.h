/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Cleanup helpers for libudev objects, for _cleanup_(). */

#include <libudev.h>

#define DEFINE_UDEV_UNREFP(type)                          \
        static inline void type##_unrefp(struct type **p) { \
                if (*p)                                   \
                        type##_unref(*p);                 \
        }

DEFINE_UDEV_UNREFP(udev)
DEFINE_UDEV_UNREFP(udev_device)
DEFINE_UDEV_UNREFP(udev_monitor)
DEFINE_UDEV_UNREFP(udev_enumerate)
