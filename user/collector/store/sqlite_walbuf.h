/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A SQLite VFS over the default one that writes a transaction's WAL
 * frames in one write(2) instead of two per page (its header, then the
 * page): on the collector's machines the system calls, not the copying,
 * were most of a batch's commit. What reaches the file and when it
 * counts is unchanged: the frames of a commit are written, in order and
 * to the same offsets, before the write of its commit frame returns,
 * and every other use of the WAL file (read, size, sync, truncate,
 * close, lock, shared memory) writes what is held first. Only frames
 * that are not yet part of any commit are ever held, so a crash loses
 * nothing SQLite had reported committed, and no reader can see a frame
 * before it is in the file (the WAL index publishes frames only after
 * the commit frame's write returned).
 */
#ifndef TOKENTAP_SQLITE_WALBUF_H
#define TOKENTAP_SQLITE_WALBUF_H

/* The VFS's name for sqlite3_open_v2, registered on first use; NULL if it could not be. */
const char *sqlite_walbuf_vfs(void);

#endif
