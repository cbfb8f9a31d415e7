namespace KcpKestrel.Multicast;

/// <summary>
/// Receives a subscriber's messages, in order per publisher stream. Called on the receive thread;
/// the bytes are valid only during the call.
/// </summary>
public interface IMulticastReceiver
{
    /// <summary>A whole (reassembled) message on a subscribed topic.</summary>
    void OnMessage(byte topic, ReadOnlySpan<byte> message);

    /// <summary>
    /// Sequences <paramref name="first"/> to <paramref name="last"/> of a publisher's stream left its
    /// history before they could be recovered: their messages are lost.
    /// </summary>
    void OnUnrecoverable(ushort publisher, uint stream, ulong first, ulong last)
    {
    }

    /// <summary>A publisher was silent past <see cref="MulticastOptions.PublisherTimeout"/>.</summary>
    void OnPublisherGone(ushort publisher, uint stream)
    {
    }
}
