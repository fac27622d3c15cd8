#include "proxy/h2/h2_memory.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace vane::proxy {
namespace {

constexpr size_t kPage = 4096;
/// nghttp2's frame buffer, NGHTTP2_FRAMEBUF_CHUNKLEN: a frame's header, a padding byte and the
/// largest payload. Only this size is taken for it: any other block may hold live data.
constexpr size_t kFrameBuffer = 9 + 1 + 16 * 1024;

bool all_zero(const void* at, size_t size) {
  const auto* words = static_cast<const uint64_t*>(at);
  uint64_t any = 0;
  for (size_t i = 0; i < size / sizeof(uint64_t); ++i) any |= words[i];
  return any == 0;
}

}  // namespace

H2Memory::H2Memory() {
  mem_.mem_user_data = this;
  mem_.malloc = &H2Memory::malloc;
  mem_.calloc = &H2Memory::calloc;
  mem_.realloc = &H2Memory::realloc;
  mem_.free = &H2Memory::free;
}

H2Memory::~H2Memory() {
  for (Pages& p : pages_) std::free(p.at);  // a session deleted first has freed them all
}

size_t H2Memory::trim(bool frames_idle) {
  size_t given = 0;
  for (Pages& p : pages_) {
    if (p.at == nullptr || (p.frames ? !frames_idle : !all_zero(p.at, p.size))) continue;
    ::madvise(p.at, p.size, MADV_DONTNEED);
    given += p.size / kPage;
  }
  return given;
}

size_t H2Memory::resident_pages() const {
  size_t resident = 0;
  for (const Pages& p : pages_) {
    if (p.at == nullptr) continue;
    std::vector<unsigned char> pages(p.size / kPage);
    if (::mincore(p.at, p.size, pages.data()) != 0) continue;
    for (unsigned char page : pages) resident += page & 1U;
  }
  return resident;
}

H2Memory::Pages* H2Memory::take_pages(size_t size, bool frames) {
  const auto free_slot = std::find_if(pages_.begin(), pages_.end(), [](const Pages& p) { return !p.at; });
  if (free_slot == pages_.end()) return nullptr;
  const size_t whole = (size + kPage - 1) / kPage * kPage;
  void* at = std::aligned_alloc(kPage, whole);
  if (at == nullptr) return nullptr;
  *free_slot = Pages{at, whole, frames};
  return &*free_slot;
}

H2Memory::Pages* H2Memory::find(void* at) {
  if (at == nullptr) return nullptr;
  const auto it = std::find_if(pages_.begin(), pages_.end(), [at](const Pages& p) { return p.at == at; });
  return it == pages_.end() ? nullptr : &*it;
}

void* H2Memory::malloc(size_t size, void*) { return std::malloc(size); }

void* H2Memory::calloc(size_t n, size_t size, void* self) {
  const size_t bytes = n * size;
  if (size != 0 && bytes / size != n) return nullptr;
  if (bytes < kPage) return std::calloc(n, size);
  Pages* p = static_cast<H2Memory*>(self)->take_pages(bytes, false);
  if (p == nullptr) return std::calloc(n, size);
  std::memset(p->at, 0, p->size);  // all of it: trim() reads the whole pages
  return p->at;
}

void* H2Memory::realloc(void* at, size_t size, void* self) {
  auto* m = static_cast<H2Memory*>(self);
  if (at == nullptr && size == kFrameBuffer &&
      std::none_of(m->pages_.begin(), m->pages_.end(), [](const Pages& p) { return p.frames; })) {
    if (Pages* p = m->take_pages(size, true)) return p->at;
  }
  Pages* p = m->find(at);
  if (p == nullptr) return std::realloc(at, size);
  // Ours: moved to plain memory, and no longer given back (nghttp2 1.52 never does this).
  void* moved = std::malloc(size);
  if (moved == nullptr) return nullptr;
  std::memcpy(moved, at, std::min(size, p->size));
  std::free(at);
  *p = Pages{};
  return moved;
}

void H2Memory::free(void* at, void* self) {
  if (Pages* p = static_cast<H2Memory*>(self)->find(at)) *p = Pages{};
  std::free(at);
}

}  // namespace vane::proxy
