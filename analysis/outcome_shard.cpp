// Memory ordering. The writer is the only thread that stores, so a cell is updated with a relaxed
// load and a plain store (never fetch_add): a reader sees each cell whole and, per cell, never goes
// backwards. Cumulative cells are relaxed. Window slots are reused, so they carry their period and
// work like a seqlock: to enter a slot the writer stores kRotating, clears the cells, then stores
// the new period (release); every cell store is a release (a plain mov on x86). A reader loads the
// period (acquire), the cells (acquire), then the period again: if it read any cell value stored
// after the rotation began, it synchronized with that store and must see the period changed, so
// it drops what it read. No fences, which ThreadSanitizer does not model.
//
// Memory. Every cell is a plain integer accessed through std::atomic_ref, so that zeroed memory
// is a valid shard: the series and their windows live in one anonymous mapping that the kernel
// fills with zero pages on first touch. A series that never sees a request, or a window slot it
// has not reached yet, costs address space but no memory (1,000 rollouts × their upstreams × 3
// targets would otherwise be gigabytes written at construction). A slot's period is stored with
// its sign bit flipped, so that 0 reads as "never entered".
#include "analysis/outcome_shard.hpp"

#include <sys/mman.h>

#include <limits>
#include <new>
#include <type_traits>
#include <utility>

namespace vane::analysis {
namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;
constexpr auto kAcquire = std::memory_order_acquire;
constexpr auto kRelease = std::memory_order_release;
constexpr int64_t kNever = std::numeric_limits<int64_t>::min();  ///< slot never entered
constexpr int64_t kRotating = kNever + 1;                        ///< slot being cleared

static_assert(std::atomic_ref<uint64_t>::is_always_lock_free);
static_assert(std::atomic_ref<int64_t>::is_always_lock_free);
static_assert(std::atomic_ref<uint32_t>::is_always_lock_free);

/// A cell readers load while its one writer stores. No initializer: zeroed memory is a cell at 0.
template <typename T>
struct Cell {
  static_assert(alignof(T) >= std::atomic_ref<T>::required_alignment);
  mutable T value;
  T load(std::memory_order order) const { return std::atomic_ref<T>(value).load(order); }
  void store(T v, std::memory_order order) { std::atomic_ref<T>(value).store(v, order); }
};

/// Whether a series recorded anything: the writer bumps a class counter before it enters a
/// window slot, so a series whose counters are all 0 holds nothing in its windows, which are then
/// left unread (reading a page never written costs a page on kernels without a shared zero page).
template <size_t N>
bool recorded(const std::array<Cell<uint64_t>, N>& by_class) {
  for (const auto& n : by_class) {
    if (n.load(kRelaxed) != 0) return true;
  }
  return false;
}

/// A period as a slot stores it: kNever is 0, what a zeroed slot holds.
constexpr int64_t stored(int64_t period) { return period ^ kNever; }

/// Single-writer increment: the writer's own load, then a store (no read-modify-write).
template <typename T>
void bump(Cell<T>& cell, T by, std::memory_order order) {
  cell.store(cell.load(kRelaxed) + by, order);
}

size_t ring_index(int64_t period, size_t slots) {
  const int64_t m = period % static_cast<int64_t>(slots);
  return static_cast<size_t>(m < 0 ? m + static_cast<int64_t>(slots) : m);
}

/// For each LatencyHistogram bucket, the first duration bound ≥ its lower end. A histogram bucket
/// holds at most one bound (checked below), so one compare finishes the Prometheus bucket.
constexpr auto kDurationBucketOf = [] {
  std::array<uint8_t, latency_buckets::kCount> table{};
  for (size_t h = 0; h < table.size(); ++h) {
    const uint64_t lower = latency_buckets::lower(h);
    size_t j = 0;
    while (j < kDurationBoundsMicros.size() && kDurationBoundsMicros[j] < lower) ++j;
    table[h] = static_cast<uint8_t>(j);
  }
  return table;
}();

constexpr bool one_bound_per_bucket() {
  for (size_t h = 0; h < kDurationBucketOf.size(); ++h) {
    const size_t next = kDurationBucketOf[h] + 1u;
    if (next < kDurationBoundsMicros.size() &&
        kDurationBoundsMicros[next] <= latency_buckets::upper(h)) {
      return false;
    }
  }
  return true;
}
static_assert(one_bound_per_bucket());

size_t duration_bucket(size_t histogram_bucket, uint64_t micros) {
  const size_t j = kDurationBucketOf[histogram_bucket];
  return j < kDurationBoundsMicros.size() && micros > kDurationBoundsMicros[j] ? j + 1 : j;
}

struct CountSlot {
  Cell<int64_t> period;  ///< the second held, stored()
  Cell<uint64_t> latency_sum_micros;
  Cell<uint32_t> failures;
  std::array<Cell<uint32_t>, kCodeClassCount> by_class;

  void clear() {
    latency_sum_micros.store(0, kRelease);
    failures.store(0, kRelease);
    for (auto& c : by_class) c.store(0, kRelease);
  }
};

struct LatencySlot {
  Cell<int64_t> period;  ///< stored()
  std::array<Cell<uint32_t>, LatencyHistogram::kBucketCount> buckets;

  void clear() {
    for (auto& c : buckets) c.store(0, kRelease);
  }
};

constexpr std::array<size_t, kLatencyRings.size() + 1> kLatencyOffsets = [] {
  std::array<size_t, kLatencyRings.size() + 1> offsets{};
  for (size_t k = 0; k < kLatencyRings.size(); ++k) {
    offsets[k + 1] = offsets[k] + kLatencyRings[k].slots;
  }
  return offsets;
}();

/// The writer makes `slot` hold `period`, clearing it if it held another.
template <typename Slot>
Slot& enter(Slot& slot, int64_t period) {
  if (slot.period.load(kRelaxed) == stored(period)) return slot;
  slot.period.store(stored(kRotating), kRelaxed);
  slot.clear();
  slot.period.store(stored(period), kRelease);
  return slot;
}

/// Everything a windowed series keeps: the seconds, then the latency rings one after another.
struct Windows {
  std::array<CountSlot, kCountRing.slots> counts;
  std::array<LatencySlot, kLatencyOffsets.back()> latency;
};

}  // namespace

const size_t OutcomeShard::kWindowBytes = sizeof(Windows);

struct alignas(64) OutcomeShard::Series {
  struct alignas(64) Cumulative {
    std::array<Cell<uint64_t>, kCodeClassCount> by_class;
    Cell<uint64_t> failures;
    Cell<uint64_t> latency_sum_micros;
    std::array<Cell<uint64_t>, kDurationBucketCount> buckets;
  } cumulative;
  /// Writer-private (plain members, never read by readers): the slots of the current second;
  /// `count` null until the first.
  struct alignas(64) Cursor {
    int64_t second;
    CountSlot* count;
    std::array<LatencySlot*, kLatencyRings.size()> latency;
  } cursor;
  Windows* windows;  ///< in the shard's mapping; null: cumulative counters only
};

OutcomeCounts& OutcomeCounts::operator+=(const OutcomeCounts& other) {
  requests += other.requests;
  failures += other.failures;
  for (size_t i = 0; i < kCodeClassCount; ++i) by_class[i] += other.by_class[i];
  latency_sum_micros += other.latency_sum_micros;
  return *this;
}

std::array<uint64_t, kDurationBucketCount> CumulativeStats::cumulative_buckets() const {
  std::array<uint64_t, kDurationBucketCount> le{};
  uint64_t total = 0;
  for (size_t i = 0; i < kDurationBucketCount; ++i) le[i] = total += buckets[i];
  return le;
}

OutcomeShard::OutcomeShard(size_t series_count, std::vector<bool> windowed) : count_(series_count) {
  // Zeroed pages are these objects (implicit-lifetime types: nothing to construct or destroy).
  static_assert(std::is_trivially_default_constructible_v<Series> && std::is_trivially_destructible_v<Series>);
  static_assert(std::is_trivially_default_constructible_v<Windows> && std::is_trivially_destructible_v<Windows>);
  static_assert(sizeof(Series) % alignof(Windows) == 0);
  auto keeps_windows = [&](size_t i) { return windowed.empty() || (i < windowed.size() && windowed[i]); };
  size_t windows = 0;
  for (size_t i = 0; i < count_; ++i) windows += keeps_windows(i) ? 1u : 0u;
  mapped_bytes_ = count_ * sizeof(Series) + windows * sizeof(Windows);
  if (mapped_bytes_ == 0) return;
  void* pages = ::mmap(nullptr, mapped_bytes_, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (pages == MAP_FAILED) throw std::bad_alloc();
  series_ = std::launder(static_cast<Series*>(pages));
  auto* next = std::launder(static_cast<Windows*>(static_cast<void*>(series_ + count_)));
  for (size_t i = 0; i < count_; ++i) {
    if (keeps_windows(i)) series_[i].windows = next++;
  }
}

OutcomeShard::~OutcomeShard() {
  if (series_ != nullptr) ::munmap(series_, mapped_bytes_);
}

void OutcomeShard::record(uint32_t series, int status, bool upstream_error, uint64_t latency_micros,
                          int64_t now_seconds) {
  if (series >= count_) return;
  Series& s = series_[series];
  const size_t cls = code_class_index(status);
  const bool failed = upstream_error || cls == 5;
  const size_t bucket = LatencyHistogram::bucket_index(latency_micros);

  auto& c = s.cumulative;
  bump<uint64_t>(c.by_class[cls], 1, kRelaxed);
  bump<uint64_t>(c.failures, failed ? 1u : 0u, kRelaxed);
  bump<uint64_t>(c.latency_sum_micros, latency_micros, kRelaxed);
  bump<uint64_t>(c.buckets[duration_bucket(bucket, latency_micros)], 1, kRelaxed);
  if (!s.windows) return;

  if (s.cursor.count == nullptr || now_seconds > s.cursor.second) advance(s, now_seconds);
  CountSlot& slot = *s.cursor.count;
  // Class before failures: a reader loads failures first, so it never sees more failures than
  // requests in a slot.
  bump<uint32_t>(slot.by_class[cls], 1, kRelease);
  bump<uint32_t>(slot.failures, failed ? 1u : 0u, kRelease);
  bump<uint64_t>(slot.latency_sum_micros, latency_micros, kRelease);
  for (LatencySlot* l : s.cursor.latency) bump<uint32_t>(l->buckets[bucket], 1, kRelease);
}

void OutcomeShard::add(uint32_t series, int64_t second, const OutcomeCounts& counts,
                       const LatencyHistogram& latency) {
  if (series >= count_) return;
  Series& s = series_[series];
  auto& c = s.cumulative;
  for (size_t i = 0; i < kCodeClassCount; ++i) bump<uint64_t>(c.by_class[i], counts.by_class[i], kRelaxed);
  bump<uint64_t>(c.failures, counts.failures, kRelaxed);
  bump<uint64_t>(c.latency_sum_micros, counts.latency_sum_micros, kRelaxed);
  for (size_t b = 0; b < LatencyHistogram::kBucketCount; ++b) {
    const uint64_t n = latency.bucket_count(b);
    if (n == 0) continue;
    bump<uint64_t>(c.buckets[duration_bucket(b, LatencyHistogram::bucket_lower(b))], n, kRelaxed);
  }
  if (!s.windows) return;
  if (s.cursor.count == nullptr || second > s.cursor.second) advance(s, second);
  CountSlot& slot = *s.cursor.count;
  for (size_t i = 0; i < kCodeClassCount; ++i) {
    bump<uint32_t>(slot.by_class[i], static_cast<uint32_t>(counts.by_class[i]), kRelease);
  }
  bump<uint32_t>(slot.failures, static_cast<uint32_t>(counts.failures), kRelease);
  bump<uint64_t>(slot.latency_sum_micros, counts.latency_sum_micros, kRelease);
  for (size_t b = 0; b < LatencyHistogram::kBucketCount; ++b) {
    const uint64_t n = latency.bucket_count(b);
    if (n == 0) continue;
    for (LatencySlot* l : s.cursor.latency) bump<uint32_t>(l->buckets[b], static_cast<uint32_t>(n), kRelease);
  }
}

void OutcomeShard::advance(Series& s, int64_t now_seconds) {
  Windows& w = *s.windows;
  s.cursor.second = now_seconds;
  s.cursor.count = &enter(w.counts[ring_index(now_seconds, kCountRing.slots)], now_seconds);
  for (size_t k = 0; k < kLatencyRings.size(); ++k) {
    const int64_t period = floor_div(now_seconds, kLatencyRings[k].period_seconds);
    const size_t index = kLatencyOffsets[k] + ring_index(period, kLatencyRings[k].slots);
    s.cursor.latency[k] = &enter(w.latency[index], period);
  }
}

bool OutcomeShard::windowed(uint32_t series) const {
  return series < count_ && series_[series].windows != nullptr;
}

size_t OutcomeShard::memory_bytes() const { return sizeof(*this) + mapped_bytes_; }

void OutcomeShard::add_cumulative(uint32_t series, CumulativeStats& into) const {
  if (series >= count_) return;
  const auto& c = series_[series].cumulative;
  for (size_t i = 0; i < kCodeClassCount; ++i) {
    const uint64_t n = c.by_class[i].load(kRelaxed);
    into.counts.by_class[i] += n;
    into.counts.requests += n;
  }
  into.counts.failures += c.failures.load(kRelaxed);
  into.counts.latency_sum_micros += c.latency_sum_micros.load(kRelaxed);
  for (size_t i = 0; i < kDurationBucketCount; ++i) into.buckets[i] += c.buckets[i].load(kRelaxed);
}

void OutcomeShard::add_seconds(uint32_t series, int64_t first, int64_t last,
                               OutcomeCounts& into) const {
  if (!windowed(series) || !recorded(series_[series].cumulative.by_class)) return;
  const Windows& w = *series_[series].windows;
  for (int64_t second = first; second <= last; ++second) {
    const CountSlot& slot = w.counts[ring_index(second, kCountRing.slots)];
    if (slot.period.load(kAcquire) != stored(second)) continue;
    OutcomeCounts got;
    got.failures = slot.failures.load(kAcquire);
    for (size_t i = 0; i < kCodeClassCount; ++i) {
      got.by_class[i] = slot.by_class[i].load(kAcquire);
      got.requests += got.by_class[i];
    }
    got.latency_sum_micros = slot.latency_sum_micros.load(kAcquire);
    if (slot.period.load(kAcquire) != stored(second)) continue;  // rotated while being read
    into += got;
  }
}

void OutcomeShard::add_latency(uint32_t series, size_t ring, int64_t period,
                               LatencyHistogram& into) const {
  if (!windowed(series) || ring >= kLatencyRings.size()) return;
  if (!recorded(series_[series].cumulative.by_class)) return;
  const size_t index = kLatencyOffsets[ring] + ring_index(period, kLatencyRings[ring].slots);
  const LatencySlot& slot = series_[series].windows->latency[index];
  if (slot.period.load(kAcquire) != stored(period)) return;
  std::array<uint32_t, LatencyHistogram::kBucketCount> got;
  for (size_t i = 0; i < got.size(); ++i) got[i] = slot.buckets[i].load(kAcquire);
  if (slot.period.load(kAcquire) != stored(period)) return;  // rotated while being read
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i] != 0) into.add_to_bucket(i, got[i]);
  }
}

}  // namespace vane::analysis
