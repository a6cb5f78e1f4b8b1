#pragma once

#include <array>
#include <cstddef>
#include <memory_resource>

namespace cppworker::http1 {

using ArenaAllocator = std::pmr::polymorphic_allocator<char>;

// Where one message is parsed: Beast's fields (a node each), the target and a small body come out
// of a buffer kept with the connection instead of a heap allocation each. Reset before each
// message, once the one before it is gone; a message that outgrows the buffer takes more from the
// heap until then.
template <std::size_t Bytes>
class HeadArena {
public:
    HeadArena() = default;
    HeadArena(const HeadArena&) = delete;
    HeadArena& operator=(const HeadArena&) = delete;

    ArenaAllocator allocator() { return ArenaAllocator(&resource_); }
    void reset() { resource_.release(); }

private:
    alignas(std::max_align_t) std::array<std::byte, Bytes> buffer_;
    std::pmr::monotonic_buffer_resource resource_{buffer_.data(), buffer_.size(), std::pmr::new_delete_resource()};
};

}  // namespace cppworker::http1
