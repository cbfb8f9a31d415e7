namespace KcpKestrel.Transport.UserTcp.Packets;

/// <summary>What a <see cref="LossyPacketSource"/> does with one packet.</summary>
internal enum PacketVerdict
{
    /// <summary>Delivered as is.</summary>
    Pass,

    /// <summary>Lost.</summary>
    Drop,

    /// <summary>Held back until the next packet has gone by.</summary>
    Hold,

    /// <summary>Delivered twice.</summary>
    Duplicate,
}
