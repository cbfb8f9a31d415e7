using System.Runtime.CompilerServices;

namespace KcpKestrel.Transport.UserTcp.Tcp;

/// <summary>Room for the at most four SACK blocks a TCP header can hold (three beside timestamps), inline.</summary>
[InlineArray(4)]
internal struct SackBlocks
{
    private SackBlock _first;
}
