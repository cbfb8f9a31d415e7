using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Tests.Shared.UserTcp;

/// <summary>Sees a segment entering a <see cref="SegmentLink"/> (flow from the sender's view); false drops it.</summary>
internal delegate bool SegmentFilter(in TcpFlowKey flow, in TcpHeader header, ReadOnlySpan<byte> payload);
