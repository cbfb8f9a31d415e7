namespace KcpKestrel.Multicast.Wire;

/// <summary>
/// Flags of one message frame inside a Data packet. A whole message is <see cref="Whole"/>; a
/// fragmented one is First, zero or more middles (no flag) and Last, in consecutive packets.
/// </summary>
[Flags]
internal enum FrameFlags : byte
{
    Middle = 0,
    First = 1,
    Last = 2,
    Whole = First | Last,
}
