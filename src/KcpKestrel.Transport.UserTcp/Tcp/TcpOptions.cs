namespace KcpKestrel.Transport.UserTcp.Tcp;

/// <summary>
/// The TCP options this stack speaks, parsed (or to be written): MSS (RFC 9293), window scale and timestamps
/// (RFC 7323), SACK-permitted and SACK blocks (RFC 2018). Others are skipped on input and never sent.
/// </summary>
internal struct TcpOptions
{
    /// <summary>The MSS option's value; 0 when absent (SYN only).</summary>
    public ushort Mss;

    /// <summary>Whether the window-scale option is present (SYN only).</summary>
    public bool HasWindowScale;

    /// <summary>The window-scale shift (already clamped to 14 on input, RFC 7323 §2.3).</summary>
    public byte WindowScale;

    /// <summary>Whether SACK-permitted is present (SYN only).</summary>
    public bool SackPermitted;

    /// <summary>Whether the timestamps option is present.</summary>
    public bool HasTimestamps;

    /// <summary>TSval: the sender's timestamp clock.</summary>
    public uint TsVal;

    /// <summary>TSecr: the TSval echoed back.</summary>
    public uint TsEcr;

    /// <summary>How many of <see cref="Sack"/> are used (0-4).</summary>
    public byte SackCount;

    /// <summary>The SACK blocks, first <see cref="SackCount"/> valid.</summary>
    public SackBlocks Sack;
}
