namespace KcpKestrel.Core.Fec;

/// <summary>What <see cref="FecDecoder"/> did with one packet. Values from <see cref="Truncated"/> on are drops.</summary>
internal enum FecDecodeResult
{
    /// <summary>A data shard: its KCP bytes went to the sink.</summary>
    Data,

    /// <summary>A parity shard, kept (or not needed because its group is complete).</summary>
    Parity,

    /// <summary>This shard completed a group with losses: the missing data shards went to the sink (and this one too, if data).</summary>
    Recovered,

    /// <summary>Shorter than its header (6 bytes, 8 for data) or a parity shard with no payload.</summary>
    Truncated,

    /// <summary>Flag neither 0xF1 nor 0xF2.</summary>
    BadFlag,

    /// <summary>A data shard whose size field is below 2 or beyond the packet.</summary>
    BadSize,

    /// <summary>Longer than kcp-go's mtu limit allows.</summary>
    Oversize,

    /// <summary>Same seqid seen (or recovered) already.</summary>
    Duplicate,

    /// <summary>A parity shard for a group already evicted from the window.</summary>
    Stale,

    /// <summary>A parity shard whose length disagrees with the other shards of its group.</summary>
    LengthMismatch,

    /// <summary>A parity flag at a data position of the group (after any auto-tuning).</summary>
    Misplaced,
}
