import Synchronization
import Wire

/// The frames one leg's sender built, by everything they were built from (`LegSpec.build`).
///
/// Why: the fix search walks the same leg plans in thousands of variants, and a variant changes
/// settings, not what a sender writes — at most which checksum it leaves (`fill`) or where TCP
/// cuts (`length`), both part of the key. Building a frame copies the payload and sums it; a
/// lookup hashes a few small fields. Only the search's plans carry a cache
/// (`FixSearch.legPlans`): a simulator's own plans build every frame at every run, so the
/// trace benchmark times the building.
final class LegFrameCache: Sendable {
    struct Key: Hashable {
        var builder: PacketBuilder
        var fill: PacketBuilder.ChecksumFill
        var offset: Int
        var length: Int?

        /// The fields that vary between one leg's frames; the builder (its MACs and addresses,
        /// the same for every frame of a leg) is left to `==`.
        func hash(into h: inout Hasher) {
            h.combine(fill)
            h.combine(offset)
            h.combine(length)
            h.combine(builder.ipID)
        }
    }

    private let frames = Mutex<[Key: Frame]>([:])

    /// The frame built for `key`, building it once.
    func frame(_ key: Key, build: () -> Frame) -> Frame {
        if let f = frames.withLock({ $0[key] }) { return f }
        let f = build()
        frames.withLock { $0[key] = f }
        return f
    }
}
