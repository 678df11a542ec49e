/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by the daemon and zramfsctl: /proc text decoding. */
#ifndef ZR_UNESCAPE_H
#define ZR_UNESCAPE_H

/* Undoes, in place, the octal escapes (\040 for a space) that the kernel
 * uses in /proc/self/mountinfo and /proc/swaps. */
void zr_unescape_octal(char *s);

#endif
