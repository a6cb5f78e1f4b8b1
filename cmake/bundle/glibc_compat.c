/* Linked into every ELF file of the relocatable bundle (cmake/StaticBundle.cmake) so that none
 * needs a glibc symbol version above GLIBC_2.34, although the build machine has glibc 2.36.
 *
 * _dl_find_object (GLIBC_2.35): GCC 12's unwinder (libgcc_eh.a, linked in by -static-libgcc) calls
 * it to find the .eh_frame_hdr of the object a frame's pc is in, when its own build saw glibc
 * 2.35 or later, which Debian 12's did. With no fallback: if it fails, no exception can be caught.
 * A definition here wins over libc's at link time, so the reference is never versioned. It calls
 * glibc's own _dl_find_object when the running glibc has one (2.35 or later: looked up once, at
 * load), and otherwise walks the loaded objects with dl_iterate_phdr (GLIBC_2.2.5), which is what
 * libgcc itself did before 2.35. On x86_64 libgcc reads dlfo_eh_frame only (there is no
 * dlfo_eh_dbase), and nothing else in the bundle calls this.
 *
 * arc4random (GLIBC_2.36): libstdc++.a's std::random_device calls it for its default token when
 * built against glibc 2.36. Here it reads getrandom (GLIBC_2.25), as glibc's own does.
 *
 * Both definitions are hidden: each ELF file gets its own copy, visible to nobody else. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

typedef int (*find_object_fn)(void *, struct dl_find_object *);
static find_object_fn glibc_find_object;

/* tests/package/glibc_compat_fallback.cpp defines CPPWORKER_GLIBC_COMPAT_FALLBACK_ONLY to check the
 * dl_iterate_phdr path on this machine, whose glibc has _dl_find_object. */
#ifndef CPPWORKER_GLIBC_COMPAT_FALLBACK_ONLY
__attribute__((constructor)) static void look_up_glibc_find_object(void) {
  void *symbol = dlvsym(RTLD_DEFAULT, "_dl_find_object", "GLIBC_2.35");
  memcpy(&glibc_find_object, &symbol, sizeof symbol); /* ISO C has no object-to-function cast */
}
#endif

struct search {
  uintptr_t pc;
  struct dl_find_object *result;
};

static int visit(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  struct search *s = data;
  uintptr_t low = UINTPTR_MAX, high = 0;
  void *eh_frame = NULL;
  int contains = 0;
  for (ElfW(Half) i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    uintptr_t start = info->dlpi_addr + ph->p_vaddr;
    if (ph->p_type == PT_LOAD) {
      uintptr_t end = start + ph->p_memsz;
      if (start < low) low = start;
      if (end > high) high = end;
      if (s->pc >= start && s->pc < end) contains = 1;
    } else if (ph->p_type == PT_GNU_EH_FRAME) {
      eh_frame = (void *)start;
    }
  }
  if (!contains) return 0;
  s->result->dlfo_flags = 0;
  s->result->dlfo_map_start = (void *)low;
  s->result->dlfo_map_end = (void *)high;
  s->result->dlfo_link_map = NULL;
  s->result->dlfo_eh_frame = eh_frame;
  return 1;
}

__attribute__((visibility("hidden"))) int _dl_find_object(void *pc, struct dl_find_object *result) {
  if (glibc_find_object != NULL) return glibc_find_object(pc, result);
  struct search s = {(uintptr_t)pc, result};
  return dl_iterate_phdr(visit, &s) ? 0 : -1;
}

__attribute__((visibility("hidden"))) uint32_t arc4random(void) {
  uint32_t value;
  unsigned char *p = (unsigned char *)&value;
  size_t got = 0;
  while (got < sizeof value) {
    ssize_t n = getrandom(p + got, sizeof value - got, 0);
    if (n > 0) got += (size_t)n;
    else if (n < 0 && errno != EINTR) __builtin_trap(); /* as glibc: no randomness, no answer */
  }
  return value;
}
