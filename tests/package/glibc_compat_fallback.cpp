// Checks the dl_iterate_phdr path of cmake/bundle/glibc_compat.c, the one the bundle takes on a
// glibc older than 2.35 (this machine's has _dl_find_object, so the bundle itself takes glibc's).
// check_bundle.sh builds it as the bundle is linked (-static-libstdc++ -static-libgcc) with
// glibc_compat.c compiled with CPPWORKER_GLIBC_COMPAT_FALLBACK_ONLY: the fallback must find the
// same .eh_frame_hdr as glibc for code in the program, in libc and in libm, and exceptions thrown
// through several frames (libgcc's unwinder asks _dl_find_object for every frame) must be caught.
#include <dlfcn.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>

namespace {

using find_object_fn = int (*)(void*, dl_find_object*);

int failures = 0;

void compare(const char* what, void* pc, find_object_fn glibc) {
    dl_find_object ours{}, theirs{};
    const int a = _dl_find_object(pc, &ours);
    const int b = glibc(pc, &theirs);
    const bool inside = ours.dlfo_map_start <= pc && pc < ours.dlfo_map_end;
    if (a != 0 || b != 0 || ours.dlfo_eh_frame != theirs.dlfo_eh_frame || ours.dlfo_eh_frame == nullptr || !inside) {
        std::printf("FAIL %s: fallback %d eh_frame %p, glibc %d eh_frame %p, pc %s the mapping\n", what, a,
                    ours.dlfo_eh_frame, b, theirs.dlfo_eh_frame, inside ? "in" : "NOT in");
        ++failures;
    } else {
        std::printf("ok   %s: eh_frame %p as glibc's\n", what, ours.dlfo_eh_frame);
    }
}

[[gnu::noinline]] void thrower(int depth) {
    if (depth == 0) throw std::runtime_error("thrown " + std::to_string(depth));
    thrower(depth - 1);
    std::printf("not reached\n");
}

}  // namespace

int main() {
    void* symbol = dlvsym(RTLD_DEFAULT, "_dl_find_object", "GLIBC_2.35");
    if (symbol == nullptr) {
        std::printf("FAIL this glibc has no _dl_find_object to compare with\n");
        return 1;
    }
    find_object_fn glibc;
    std::memcpy(&glibc, &symbol, sizeof symbol);

    compare("program", reinterpret_cast<void*>(&thrower), glibc);
    compare("libc", reinterpret_cast<void*>(&std::puts), glibc);
    double (*cosine)(double) = &std::cos;
    compare("libm", reinterpret_cast<void*>(cosine), glibc);
    dl_find_object none{};
    if (_dl_find_object(nullptr, &none) != -1) {
        std::printf("FAIL fallback found an object at address 0\n");
        ++failures;
    }

    try {
        thrower(5);
        std::printf("FAIL nothing thrown\n");
        ++failures;
    } catch (const std::runtime_error& e) {
        std::printf("ok   exception caught through 6 frames: %s\n", e.what());
    }
    return failures == 0 ? 0 : 1;
}
