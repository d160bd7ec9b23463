import Wire

/// A frame handed to a reader: whoever reads a TAP's fd (`tun_put_user()`: QEMU for a guest, or a
/// userspace forwarder) or a guest's virtio-net driver (`receive_buf()`, the header QEMU passed).
/// Decided from the typed step event, never from the narration, so a script can find "what the
/// receiver's reader got" without matching function names.
public struct ReaderFrame: Sendable, Hashable {
    public enum Reader: String, Sendable, Hashable, CaseIterable {
        /// `tun_put_user()`: the reader of the TAP's fd.
        case tapReader = "tap-reader"
        /// The guest's `receive_buf()`.
        case guest
    }

    public var reader: Reader
    /// The node (the TAP's host, or the guest) and the interface (the TAP, or the guest's NIC).
    public var node: String
    public var interface: String?
    /// The virtio_net_hdr handed with the frame; nil when there is none (a TAP without
    /// IFF_VNET_HDR, and so a guest behind it).
    public var vnet: VirtioNetHeader?
    /// The Ethernet frame's length in bytes, without the vnet header (a GSO super-frame whole;
    /// for IP fragments, the whole datagram — `ipFragments` says how many frames it travels as).
    public var frameLength: Int
    public var ipFragments: Int?
    /// Segment number after software segmentation, else nil.
    public var segment: Int?
    /// The L4 checksum field as handed over, and whether it verifies against the bytes.
    public var l4Field: UInt16
    public var l4Valid: Bool
    /// The index of the step in the leg's `steps`.
    public var step: Int
}

extension Step {
    /// The frame this step hands to a reader, if it hands one.
    public func readerFrame(index: Int) -> ReaderFrame? {
        let reader: ReaderFrame.Reader, vnet: VirtioNetHeader?
        switch event {
        case let .tunPutUser(h, _): reader = .tapReader; vnet = h
        case let .receiveBuf(h, _, _): reader = .guest; vnet = h
        default: return nil
        }
        return ReaderFrame(reader: reader, node: element, interface: interface, vnet: vnet, frameLength: frame.count,
                           ipFragments: ipFragments, segment: segment, l4Field: l4Field, l4Valid: bytesValid, step: index)
    }
}

extension LegTrace {
    /// Every frame the leg hands to a TAP reader or a guest, in order.
    public var readerFrames: [ReaderFrame] {
        steps.enumerated().compactMap { i, s in s.readerFrame(index: i) }
    }
}
