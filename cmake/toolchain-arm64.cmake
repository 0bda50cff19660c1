# Cross-build for arm64 (aarch64) Debian 12 with Debian's gcc-aarch64-linux-gnu.
#
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-arm64.cmake \
#         -DNGXWATCH_ARM64_SYSROOT=$(scripts/arm64-sysroot)
#
# scripts/build-arm64 does this. The sysroot holds bookworm's arm64 -dev packages unpacked
# (scripts/arm64-sysroot); headers, libraries, CMake package files and pkg-config files are
# taken only from it, programs (bpftool, clang for the BPF objects) from the host.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

if(NOT NGXWATCH_ARM64_SYSROOT)
  if(DEFINED ENV{NGXWATCH_ARM64_SYSROOT})
    set(NGXWATCH_ARM64_SYSROOT "$ENV{NGXWATCH_ARM64_SYSROOT}")
  else()
    set(NGXWATCH_ARM64_SYSROOT /var/cache/ngxwatch-arm64-sysroot/root)
  endif()
endif()
set(NGXWATCH_ARM64_SYSROOT "${NGXWATCH_ARM64_SYSROOT}" CACHE PATH "arm64 sysroot (scripts/arm64-sysroot)")
if(NOT EXISTS "${NGXWATCH_ARM64_SYSROOT}/usr/include/aarch64-linux-gnu")
  message(FATAL_ERROR "no arm64 sysroot at ${NGXWATCH_ARM64_SYSROOT} (run scripts/arm64-sysroot)")
endif()
# try_compile projects read this file again: hand them the same sysroot.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES NGXWATCH_ARM64_SYSROOT)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_SYSROOT "${NGXWATCH_ARM64_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH "${NGXWATCH_ARM64_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config reads only the sysroot's .pc files and prefixes their paths with it.
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_LIBDIR}
    "${NGXWATCH_ARM64_SYSROOT}/usr/lib/aarch64-linux-gnu/pkgconfig:${NGXWATCH_ARM64_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${NGXWATCH_ARM64_SYSROOT}")

# Test programs (gtest_discover_tests, ctest) run under qemu-user with the sysroot's
# dynamic loader and libraries.
find_program(NGXWATCH_QEMU_AARCH64 NAMES qemu-aarch64-static qemu-aarch64)
if(NGXWATCH_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${NGXWATCH_QEMU_AARCH64};-L;${NGXWATCH_ARM64_SYSROOT}")
endif()
