/* libarchive (Debian's libarchive-dev): the layer applier reads tar, pax, gzip and zstd
 * streams with it (DESIGN.md §5), and decides itself where each entry may land. */
#ifndef BERTH_ARCHIVE_SHIM_H
#define BERTH_ARCHIVE_SHIM_H
#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

static inline unsigned int berth_archive_type(struct archive_entry *entry) { return (unsigned int)archive_entry_filetype(entry); }
static inline unsigned int berth_archive_type_regular(void) { return AE_IFREG; }
static inline unsigned int berth_archive_type_directory(void) { return AE_IFDIR; }
static inline unsigned int berth_archive_type_symlink(void) { return AE_IFLNK; }
static inline unsigned int berth_archive_type_character(void) { return AE_IFCHR; }
static inline unsigned int berth_archive_type_block(void) { return AE_IFBLK; }
static inline unsigned int berth_archive_type_fifo(void) { return AE_IFIFO; }
static inline int berth_archive_ok(void) { return ARCHIVE_OK; }
static inline int berth_archive_eof(void) { return ARCHIVE_EOF; }
static inline int berth_archive_warn(void) { return ARCHIVE_WARN; }
static inline dev_t berth_archive_makedev(unsigned int major, unsigned int minor) { return makedev(major, minor); }
static inline int berth_fsetxattr(int fd, const char *name, const void *value, size_t size) { return fsetxattr(fd, name, value, size, 0); }
static inline ssize_t berth_lgetxattr(const char *path, const char *name, void *value, size_t size) { return lgetxattr(path, name, value, size); }
#endif
