import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `body(0) … body(count - 1)` on up to `workers` threads, the results in index order.
///
/// Why not a task group: the fix search is synchronous (the CLI and the explorer's worker call
/// it from plain code) and its units are a few microseconds to a millisecond each, so threads
/// take indices from a shared counter (a slow variant does not hold up a fixed share) and each
/// result is stored under a lock, which costs far less than one walk. `body` must be safe to
/// call concurrently: the search's `evaluate` reads only immutable state (its shared frame
/// caches lock themselves).
func evaluateConcurrently<T: Sendable>(_ count: Int, workers: Int, _ body: @Sendable (Int) -> T) -> [T] {
    let threads = min(max(1, workers), count)
    if threads <= 1 { return (0..<count).map(body) }
    let next = Atomic<Int>(0)
    let slots = Mutex<[T?]>(Array(repeating: nil, count: count))
    DispatchQueue.concurrentPerform(iterations: threads) { _ in
        while true {
            let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
            if i >= count { return }
            let value = body(i)
            slots.withLock { $0[i] = value }
        }
    }
    return slots.withLock { $0.map { $0! } }
}

/// CPUs online now (`sysconf(_SC_NPROCESSORS_ONLN)`), at least 1.
func onlineCPUs() -> Int {
    max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
}
