#define _GNU_SOURCE
#include "ferry_system.h"
#include <fcntl.h>

int ferry_start_writeback(int fd, int64_t offset, int64_t length) {
#if defined(__linux__)
    return sync_file_range(fd, (off_t)offset, (off_t)length, SYNC_FILE_RANGE_WRITE);
#else
    (void)fd; (void)offset; (void)length;
    return 0;
#endif
}

#include <errno.h>
#include <unistd.h>

int64_t ferry_copy_range(int from, int to, int64_t length) {
#if defined(__linux__)
    ssize_t n;
    do {
        n = copy_file_range(from, NULL, to, NULL, (size_t)length, 0);
    } while (n < 0 && errno == EINTR);
    return (int64_t)n;
#else
    (void)from; (void)to; (void)length;
    errno = ENOSYS;
    return -1;
#endif
}

int ferry_preallocate(int fd, int64_t offset, int64_t length) {
#if defined(__linux__)
    int rc;
    do {
        rc = fallocate(fd, FALLOC_FL_KEEP_SIZE, (off_t)offset, (off_t)length);
    } while (rc != 0 && errno == EINTR);
    return rc;
#else
    (void)fd; (void)offset; (void)length;
    errno = ENOSYS;
    return -1;
#endif
}
