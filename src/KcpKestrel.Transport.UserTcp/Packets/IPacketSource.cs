namespace KcpKestrel.Transport.UserTcp.Packets;

/// <summary>
/// Where IP packets come from and go to: a TUN device, or an in-memory link in tests. The TCP stack does not care which;
/// each I/O loop owns one <see cref="IPacketQueue"/> of it.
/// </summary>
internal interface IPacketSource : IDisposable
{
    /// <summary>The largest IP packet the source carries, header included.</summary>
    int Mtu { get; }

    /// <summary>How many queues the source has (a multiqueue TUN device has one per loop).</summary>
    int QueueCount { get; }

    /// <summary>The queue a loop reads and writes; each index is opened once.</summary>
    IPacketQueue OpenQueue(int index);
}
