using System.Threading.Channels;

namespace KcpKestrel.Multicast;

/// <summary>
/// Hands a subscriber's messages to async consumers through a bounded <see cref="ChannelReader{T}"/>:
/// each message is copied into a pooled buffer (<see cref="MulticastMessage"/>; dispose it). When the
/// channel is full the receive thread waits, the socket buffer fills and the kernel drops datagrams,
/// which NAKs then repair: a slow consumer slows the stream, it does not lose messages (while the
/// publisher's history holds them).
/// </summary>
public sealed class MulticastChannelReceiver : IMulticastReceiver
{
    private readonly Channel<MulticastMessage> _channel;

    /// <param name="capacity">Messages buffered before the receive thread waits, at least 1.</param>
    public MulticastChannelReceiver(int capacity = 4096)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _channel = Channel.CreateBounded<MulticastMessage>(new BoundedChannelOptions(capacity)
        {
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>The messages, in order per publisher stream.</summary>
    public ChannelReader<MulticastMessage> Reader => _channel.Reader;

    /// <summary>Ends <see cref="Reader"/> once the buffered messages are read.</summary>
    public void Complete() => _channel.Writer.TryComplete();

    void IMulticastReceiver.OnMessage(byte topic, ReadOnlySpan<byte> message)
    {
        var copy = new MulticastMessage(topic, message);
        if (_channel.Writer.TryWrite(copy))
        {
            return;
        }

        // Full (rare: the consumer fell behind): block the receive thread until there is room.
        var write = _channel.Writer.WriteAsync(copy);
        try
        {
            if (!write.IsCompletedSuccessfully)
            {
                write.AsTask().GetAwaiter().GetResult();
            }
        }
        catch (ChannelClosedException)
        {
            copy.Dispose();
        }
    }
}
