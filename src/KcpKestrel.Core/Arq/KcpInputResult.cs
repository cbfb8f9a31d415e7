namespace KcpKestrel.Core.Arq;

/// <summary>What <see cref="KcpControlBlock.Input"/> made of a datagram.</summary>
/// <remarks>
/// Malformed datagrams (<see cref="Truncated"/>, <see cref="LengthMismatch"/>, <see cref="WrongConv"/>,
/// <see cref="UnknownCommand"/>) are rejected whole before any state changes. Well-formed segments that make
/// no sense for the current state (<see cref="OutOfWindow"/>, <see cref="InvalidUna"/>) are skipped one by one,
/// the others in the datagram are still processed; the result then names the first such rejection.
/// </remarks>
internal enum KcpInputResult
{
    /// <summary>Every segment was accepted (duplicates included: they are acknowledged again, as kcp-go does).</summary>
    Ok = 0,

    /// <summary>The datagram is shorter than one 24-byte header (kcp-go: -1).</summary>
    Truncated,

    /// <summary>A segment's <c>len</c> runs past the end of the datagram (kcp-go: -2).</summary>
    LengthMismatch,

    /// <summary>A segment carries another <c>conv</c> (kcp-go: -1).</summary>
    WrongConv,

    /// <summary>A segment's <c>cmd</c> is none of PUSH, ACK, WASK, WINS (kcp-go: -3).</summary>
    UnknownCommand,

    /// <summary>
    /// A PUSH whose <c>sn</c> is beyond the receive window (or further behind it than any peer could lag), or an
    /// ACK for a <c>sn</c> never sent.
    /// </summary>
    OutOfWindow,

    /// <summary>A segment whose <c>una</c> acknowledges segments never sent.</summary>
    InvalidUna,
}
