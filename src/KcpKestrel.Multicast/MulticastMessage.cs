using System.Buffers;

namespace KcpKestrel.Multicast;

/// <summary>
/// A message handed off by <see cref="MulticastChannelReceiver"/>: a copy in a pooled buffer.
/// Dispose it when done, which returns the buffer to the pool; <see cref="Payload"/> is invalid after.
/// </summary>
public readonly struct MulticastMessage : IDisposable
{
    private readonly byte[]? _buffer;
    private readonly int _length;

    internal MulticastMessage(byte topic, ReadOnlySpan<byte> message)
    {
        Topic = topic;
        _buffer = ArrayPool<byte>.Shared.Rent(message.Length);
        _length = message.Length;
        message.CopyTo(_buffer);
    }

    /// <summary>The topic the message was published on.</summary>
    public byte Topic { get; }

    /// <summary>The message bytes, valid until <see cref="Dispose"/>.</summary>
    public ReadOnlyMemory<byte> Payload => _buffer.AsMemory(0, _length);

    /// <summary>Returns the buffer to the pool.</summary>
    public void Dispose()
    {
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
        }
    }
}
