namespace KcpKestrel.Core.Fec;

/// <summary>
/// kcp-go's FEC framing: <c>seqid u32 | flag u16</c>, and on data shards <c>size u16</c> (KCP bytes + 2)
/// before the KCP bytes. Little-endian.
/// </summary>
internal static class FecPacket
{
    /// <summary>fecHeaderSize: seqid and flag.</summary>
    public const int HeaderSize = 6;

    /// <summary>fecHeaderSizePlus2: the header plus a data shard's size field.</summary>
    public const int HeaderSizePlusSize = 8;

    public const ushort TypeData = 0xF1;

    public const ushort TypeParity = 0xF2;

    /// <summary>kcp-go's mtuLimit: the largest datagram it builds or keeps.</summary>
    public const int MtuLimit = 1500;

    /// <summary>fecExpire: a group still incomplete this many ms after its first shard is dropped.</summary>
    public const uint ExpireMs = 60000;

    /// <summary>rxFECMulti: how many groups (kcp-go: groups' worth of packets) the decoder keeps.</summary>
    public const int RxGroups = 3;
}
