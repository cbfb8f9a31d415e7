namespace KcpKestrel.Multicast.Wire;

/// <summary>Header flags (byte 3). Bits not named here must be zero.</summary>
[Flags]
internal enum PacketFlags : byte
{
    None = 0,

    /// <summary>A resend from history, answering a NAK.</summary>
    Retransmit = 1,

    /// <summary>The stream is unreliable: subscribers skip gaps and send no NAKs.</summary>
    Unreliable = 2,

    All = Retransmit | Unreliable,
}
