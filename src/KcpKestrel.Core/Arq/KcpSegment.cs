namespace KcpKestrel.Core.Arq;

/// <summary>One PUSH segment held by a control block (kcp.go's <c>segment</c>), its payload in a pooled array.</summary>
internal struct KcpSegment
{
    public uint Sn;
    public uint Ts;
    public uint Rto;
    public uint ResendTs;
    public uint FastAck;
    public uint Xmit;
    public byte Frg;
    public bool Acked;

    /// <summary>A tail loss probe has repeated this transmission (see <see cref="TailLossProbeRule"/>).</summary>
    public bool Probed;

    /// <summary>Pooled payload buffer; null once the segment is acknowledged or released.</summary>
    public byte[]? Data;

    /// <summary>Payload length in <see cref="Data"/>.</summary>
    public int Length;

    public readonly ReadOnlySpan<byte> Payload => Data.AsSpan(0, Length);
}
