namespace KcpKestrel.Transport.UserTcp.Tcp;

/// <summary>One SACK block (RFC 2018): the sequence space [<see cref="Start"/>, <see cref="End"/>) the receiver holds.</summary>
internal readonly record struct SackBlock(uint Start, uint End);
