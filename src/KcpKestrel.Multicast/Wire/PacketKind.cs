namespace KcpKestrel.Multicast.Wire;

/// <summary>What a datagram carries (byte 2 of the header).</summary>
internal enum PacketKind : byte
{
    /// <summary>Publisher to group: batched message frames under one sequence number.</summary>
    Data = 1,

    /// <summary>Subscriber to publisher: resend <c>count</c> packets from the header's sequence.</summary>
    Nak = 2,

    /// <summary>Publisher to group: the latest sequence sent (header) and the oldest still in history (body).</summary>
    Heartbeat = 3,

    /// <summary>Publisher to one subscriber: the NAKed range left the history; the body names the oldest left.</summary>
    Gone = 4,

    /// <summary>
    /// Publisher to group, with FEC on: one Reed-Solomon parity shard over a group of Data packets
    /// (<see cref="Fec.ParityPacket"/>). Consumed by the packet codec; the protocol core never sees it.
    /// </summary>
    Parity = 5,
}
