#ifndef FERRY_SYSTEM_H
#define FERRY_SYSTEM_H

#include <stdint.h>

/// Starts asynchronous writeback of bytes [offset, offset + length) of `fd` (Linux
/// sync_file_range with SYNC_FILE_RANGE_WRITE). Returns 0, or -1 with errno set. A no-op
/// returning 0 where the call does not exist: a later fsync still makes the data durable.
int ferry_start_writeback(int fd, int64_t offset, int64_t length);

/// Copies up to `length` bytes from the current offset of `from` to the current offset of `to` inside
/// the kernel (Linux copy_file_range, as `cp` does), retrying EINTR. Returns the bytes copied (0 at the
/// end of `from`), or -1 with errno set (ENOSYS where the call does not exist).
int64_t ferry_copy_range(int from, int to, int64_t length);

/// Reserves disk blocks for bytes [offset, offset + length) of `fd` without changing its size (Linux
/// fallocate with FALLOC_FL_KEEP_SIZE), retrying EINTR. Returns 0, or -1 with errno set (ENOSYS where
/// the call does not exist, EOPNOTSUPP on file systems without it).
int ferry_preallocate(int fd, int64_t offset, int64_t length);

#endif
