#ifndef FERRY_CLIBARCHIVE_SHIM_H
#define FERRY_CLIBARCHIVE_SHIM_H
#include <archive.h>
#include <archive_entry.h>
#endif
