namespace KcpKestrel.Transport.UserTcp.Tcp;

/// <summary>
/// A TCP header without its ports (those are the flow's, <see cref="TcpFlowKey"/>) and without its checksum (checked
/// on input, computed on output by the packet layer): what the connection state machine reads and writes.
/// </summary>
internal struct TcpHeader
{
    /// <summary>SEG.SEQ.</summary>
    public uint Seq;

    /// <summary>SEG.ACK (meaningful with <see cref="TcpFlags.Ack"/>).</summary>
    public uint Ack;

    /// <summary>The control bits.</summary>
    public TcpFlags Flags;

    /// <summary>SEG.WND as on the wire: not yet scaled.</summary>
    public ushort Window;

    /// <summary>The urgent pointer (read and ignored: no urgent data is delivered, RFC 6093).</summary>
    public ushort Urgent;

    /// <summary>The options.</summary>
    public TcpOptions Options;

    /// <summary>Whether all of <paramref name="flags"/> are set.</summary>
    public readonly bool Has(TcpFlags flags) => (Flags & flags) == flags;
}
