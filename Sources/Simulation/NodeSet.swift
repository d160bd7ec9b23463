/// A set of node indexes (a topology's node order) as a bit set: the fix search records one per
/// failing variant and asks it "does this node matter?" for many sets, where a `Set<String>`
/// would hash a name each time.
struct NodeSet: Sendable, Hashable {
    private var words: [UInt64]

    init(count: Int) {
        words = Array(repeating: 0, count: (count + 63) / 64)
    }

    func contains(_ i: Int) -> Bool {
        let w = i >> 6
        return i >= 0 && w < words.count && words[w] & (1 << UInt64(i & 63)) != 0
    }

    mutating func insert(_ i: Int) {
        let w = i >> 6
        if w >= words.count { words += Array(repeating: 0, count: w + 1 - words.count) }
        words[w] |= 1 << UInt64(i & 63)
    }

    mutating func formUnion(_ other: NodeSet) {
        if other.words.count > words.count { words += Array(repeating: 0, count: other.words.count - words.count) }
        for (w, bits) in other.words.enumerated() { words[w] |= bits }
    }

    /// The indexes in the set, ascending.
    var members: [Int] {
        var out: [Int] = []
        for (w, bits) in words.enumerated() {
            var b = bits
            while b != 0 {
                out.append(w * 64 + b.trailingZeroBitCount)
                b &= b - 1
            }
        }
        return out
    }
}
