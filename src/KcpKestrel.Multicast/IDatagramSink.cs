namespace KcpKestrel.Multicast;

/// <summary>
/// Where the protocol core's datagrams go: the I/O shell sends them (to the group, or to the node the
/// header's target names). The span is valid only during the call.
/// </summary>
internal interface IDatagramSink
{
    void Send(ReadOnlySpan<byte> datagram);
}
