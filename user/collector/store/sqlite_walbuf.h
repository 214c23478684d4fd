/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A SQLite VFS over the default one that writes a transaction's WAL
 * frames in one write(2) instead of two per page (its header, then the
 * page): on the collector's machines the system calls, not the copying,
 * were most of a batch's commit. What reaches the file and when it
 * counts is unchanged: the frames before a commit frame are written, in
 * order and to the same offsets, with the commit frame's header, before
 * that write returns, and its page by the next write; every other use of
 * the WAL file (read, size, sync, truncate, close, lock) writes what is
 * held first. Only frames of a transaction whose commit frame SQLite
 * has not written yet are ever held, so a crash loses nothing SQLite had
 * reported committed, and no reader can see a frame before it is in the
 * file (the WAL index publishes frames only after the commit frame's
 * writes returned).
 */
#ifndef TOKENTAP_SQLITE_WALBUF_H
#define TOKENTAP_SQLITE_WALBUF_H

/* The VFS's name for sqlite3_open_v2, registered on first use; NULL if it could not be. */
const char *sqlite_walbuf_vfs(void);

#endif
