// Keeps the library loadable on glibc 2.28 (Debian 10, RHEL 8, Ubuntu 20.04, JetPack 5) when it
// is built against a newer glibc. Force-included into every translation unit (-include).
//
// glibc 2.34 moved dlopen, dlsym, dlclose and dlerror from libdl into libc and gave them the new
// version GLIBC_2.34; JavaCPP's generated loader code calls them, so a plain build needs glibc
// 2.34. Binding them to their original versions (which glibc >= 2.34 still exports as
// compatibility symbols) and linking libdl.so.2 explicitly (present on old glibc, an empty stub
// on new) loads on both. scripts/check_glibc_floor fails the build if a newer symbol appears.
#ifndef WEBPOLICY_GLIBC_COMPAT_H
#define WEBPOLICY_GLIBC_COMPAT_H

#if defined(__linux__)
#include <features.h>  // defines __GLIBC__; the compiler does not
#endif
#if defined(__linux__) && defined(__GLIBC__)
#if defined(__x86_64__)
#define WP_GLIBC_BASE "GLIBC_2.2.5"
#elif defined(__aarch64__)
#define WP_GLIBC_BASE "GLIBC_2.17"
#endif
#ifdef WP_GLIBC_BASE
__asm__(".symver dlopen,dlopen@" WP_GLIBC_BASE);
__asm__(".symver dlsym,dlsym@" WP_GLIBC_BASE);
__asm__(".symver dlclose,dlclose@" WP_GLIBC_BASE);
__asm__(".symver dlerror,dlerror@" WP_GLIBC_BASE);
__asm__(".symver dladdr,dladdr@" WP_GLIBC_BASE);
#undef WP_GLIBC_BASE
#endif
#endif

#endif
